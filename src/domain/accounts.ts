import type { Role } from './model.ts';

export { roles } from './model.ts';

/** An account as the store returns it: never with its password hash (see `readPasswordHash`). */
export interface User {
  id: string;
  name: string;
  role: Role;
  mustChangePassword: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** Advances with every change of role (see src/app/versions.ts). */
  version: number;
}

/** An API token's record: the token itself is never stored, only its SHA-256 and a short prefix for display. */
export interface ApiToken {
  id: string;
  userId: string;
  /** The owner's name; null when the user was removed (the token is revoked then). */
  userName: string | null;
  name: string;
  prefix: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface Session {
  idHash: string;
  userId: string;
  csrfTokenHash: string;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string;
  address: string | null;
}
