export interface paths {
    "/api/v1/connections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Connections the caller may see (contributors: only those usable by contributors, without settings) */
        get: operations["listConnections"];
        put?: never;
        /** Create a connection (administrators; needs acceptPrivacyTerms) */
        post: operations["createConnection"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/connections/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Show a connection; secrets show as "set", never their value */
        get: operations["getConnection"];
        put?: never;
        post?: never;
        /** Remove a connection (administrators); with force=true, exports that use it stay, waiting for a new connection (If-Match: only if still at that version) */
        delete: operations["removeConnection"];
        options?: never;
        head?: never;
        /** Edit a connection (administrators); config is merged over the current settings, secrets are write-only (If-Match: only if still at that version) */
        patch: operations["updateConnection"];
        trace?: never;
    };
    "/api/v1/connection-checks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Verify settings before saving them (administrators): the same check as a saved connection, nothing stored */
        post: operations["verifyConnectionDraft"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/connections/{id}/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Connect, authenticate and make one cheap read; SFTP records or checks the host key */
        post: operations["verifyConnection"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/connections/{id}/oauth/start": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Microsoft Advertising: start "Sign in with Microsoft Advertising" (administrators); send the browser to authorizationUrl
         * @description The state and PKCE verifier stay on the server for 10 minutes, for the administrator who started the sign-in. The authority sends the browser back to /api/oauth/microsoft/callback under the server's public URL (OUTFLOW_PUBLIC_URL).
         */
        post: operations["startMicrosoftSignIn"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/oauth/microsoft/callback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Where the Microsoft identity platform sends the browser back after "Sign in with Microsoft Advertising" (no session needed: the state names the sign-in) */
        get: operations["completeMicrosoftSignIn"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/exports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the exports */
        get: operations["listExports"];
        put?: never;
        /** Save an export (saving never runs it) */
        post: operations["createExport"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/exports/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Show an export */
        get: operations["getExport"];
        put?: never;
        post?: never;
        /** Remove an export; its run history stays (If-Match: only if still at that version) */
        delete: operations["removeExport"];
        options?: never;
        head?: never;
        /** Edit an export, or repair one whose connection was removed; validated like a new one (If-Match: only if still at that version) */
        patch: operations["updateExport"];
        trace?: never;
    };
    "/api/v1/exports/{id}/manifest": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The data manifest: which fields leave, to which destination and account, under whose consent, how often, and what the last runs sent */
        get: operations["getExportManifest"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/exports/{id}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Queue a run; answers at once with it (Location: the run). The worker pool (serve --concurrency) starts it when it has room; follow it with GET /api/v1/runs/{id} */
        post: operations["startRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/exports/{id}/dry-run": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** What a run would add, update, remove and reject now, per source; sends nothing and changes nothing */
        post: operations["dryRunExport"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Run history, newest first */
        get: operations["listRuns"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs/{id}/rejections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A page of a run's rejected records, in order (the whole resume chain, as the CSV); not for viewers */
        get: operations["listRunRejections"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs/{id}/rejections.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every rejected record of a run as CSV (key, segment, code, reason), streamed; not for viewers */
        get: operations["getRunRejectionsCsv"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Show a run, with its progress while it runs */
        get: operations["getRun"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Stop a queued or running run; what was delivered stays delivered and is counted */
        post: operations["cancelRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Continue a failed or cancelled run from its checkpoint, as a new run */
        post: operations["resumeRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The home's alert webhook, its URL masked */
        get: operations["getNotify"];
        /** Set the home's alert webhook: a JSON post when a run fails, an export recovers, or too many records are rejected */
        put: operations["setNotify"];
        post?: never;
        /** Turn the home's alert webhook off */
        delete: operations["removeNotify"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/entities/{name}/attach": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Register an existing table or view as an entity, read live without copying (PostgreSQL profile store; administrators) */
        post: operations["attachEntity"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/segments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the segments with their member counts */
        get: operations["listSegments"];
        put?: never;
        /** Create a segment from a filter on an entity (refresh it to count its members) */
        post: operations["createSegment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/segments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a segment that no export uses (If-Match: only if still at that version) */
        delete: operations["removeSegment"];
        options?: never;
        head?: never;
        /** Change a segment's filter (its membership is refreshed at once; If-Match: only if still at that version) */
        patch: operations["updateSegment"];
        trace?: never;
    };
    "/api/v1/segments/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Count the profiles a filter selects, without saving a segment */
        post: operations["previewSegment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/segments/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Re-materialize every segment */
        post: operations["refreshSegments"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/segments/{id}/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Re-materialize one segment */
        post: operations["refreshSegment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/entities": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the entities in the profile store */
        get: operations["listEntities"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/entities/{name}/samples": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A few distinct non-null values of each column (at most 5, from the first rows only), for mapping fields; not for viewers */
        get: operations["getEntitySamples"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/entities/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Load a CSV (with header) or Parquet file into an entity, replacing it atomically (administrators) */
        put: operations["loadEntity"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/destinations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every destination with the JSON Schema of its connection and export settings */
        get: operations["listDestinations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The audit log, newest first (administrators) */
        get: operations["listAuditEntries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/backup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Backs the home up into a new or empty folder on the server's machine, while it serves and runs (administrators; audited)
         * @description Writes metadata.sqlite (SQLite online backup), profiles.duckdb (one DuckDB snapshot), secret.key unless `withoutKey`, and backup.json. Refused (422) when the home keeps its data in PostgreSQL: use pg_dump.
         */
        post: operations["backupHome"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Who is signed in */
        get: operations["getSession"];
        put?: never;
        /** Sign in: sets an http-only session cookie and returns the CSRF token that writes must send in X-CSRF-Token */
        post: operations["signIn"];
        /** Sign out */
        delete: operations["signOut"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/local-token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The server's local CLI token, for the CLI on its machine: send the renewKey from <home>/server.json (whoever can read the home owns it); a revoked token is replaced */
        post: operations["renewLocalToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/session/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Change your own password (needed after a one-time password); your other sessions end */
        put: operations["changePassword"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the users (administrators) */
        get: operations["listUsers"];
        put?: never;
        /** Create a user; the answer holds a one-time password, shown only this once */
        post: operations["createUser"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a user; their tokens and sessions end (If-Match: only if still at that version) */
        delete: operations["removeUser"];
        options?: never;
        head?: never;
        /** Change a user's role (If-Match: only if still at that version) */
        patch: operations["updateUser"];
        trace?: never;
    };
    "/api/v1/users/{id}/reset-password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Give a user a new one-time password (in the answer, shown only this once) and end their sessions */
        post: operations["resetPassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sign-in-delays": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Lift the sign-in delays of a user (from every address) and/or of an address (to every account): someone held back by another's failed guesses */
        delete: operations["unlockSignIns"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the active API tokens (administrators: everyone's) */
        get: operations["listTokens"];
        put?: never;
        /** Create an API token; the answer holds the token, shown only this once */
        post: operations["createToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an API token */
        delete: operations["revokeToken"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/schedule": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The home's refresh schedule, its next 5 fire times, and the exports scheduled on their own or paused */
        get: operations["getSchedule"];
        /** Set the refresh schedule (administrators): days + times, or a cron expression, in an IANA time zone */
        put: operations["setSchedule"];
        post?: never;
        /** Turn the scheduled refresh off (administrators); exports with their own schedule keep it */
        delete: operations["turnScheduleOff"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** One refresh now (administrators): every segment, then every export that is not paused and has no schedule of its own */
        post: operations["refreshNow"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/exports/{id}/schedule": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Give an export its own schedule (a cron expression in a zone); it then leaves the home's refresh */
        put: operations["setExportSchedule"];
        post?: never;
        /** Take an export's own schedule away: it runs with the home's refresh again */
        delete: operations["removeExportSchedule"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/exports/{id}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Leave the export out of scheduled refreshes until resumed */
        post: operations["pauseExport"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/exports/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Put a paused export back into scheduled refreshes */
        post: operations["resumeExport"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The run queue: runs waiting and executing, and the workers alive with their runs (any signed-in account) */
        get: operations["getStatus"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/config": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The home's configuration as a YAML file, secrets as ${env:…} references (administrators) */
        get: operations["exportConfig"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/config/plan": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** What applying a configuration file would create, change and remove, and what would be refused; changes nothing */
        post: operations["planConfig"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/config/apply": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Apply a configuration file, all or nothing (one transaction); refused while another apply runs */
        post: operations["applyConfig"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The home at a glance: runs per day by outcome, rows per destination, exports that need attention, the next scheduled refresh */
        get: operations["getOverview"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/segments/{id}/refreshes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A segment's member count at each of its refreshes, newest first */
        get: operations["listSegmentRefreshes"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description The settings of a SFTP connection; secrets are write-only */
        SftpConnectionConfig: {
            /**
             * Host
             * @description Host name or IP address of the SFTP server.
             */
            host: string;
            /**
             * Port
             * @description Default: 22.
             */
            port?: number;
            /** Username */
            username: string;
            /** Password */
            password?: string;
            /**
             * Private key
             * @description PEM or OpenSSH private key text.
             */
            privateKey?: string;
            /**
             * Private key file (path on the server)
             * @description Path to a private key file on the server, instead of pasting the key: read when the connection is saved, then stored encrypted like a pasted key.
             */
            privateKeyFile?: string;
            /**
             * Key passphrase
             * @description Opens a private key that is encrypted.
             */
            passphrase?: string;
            /**
             * Folder
             * @description Export folder: absolute, or relative to the login folder. Stored normalized (`//` and a trailing `/` dropped); `..` is refused.
             */
            folder: string;
            /**
             * Compression
             * @description Default: "none".
             * @enum {string}
             */
            compression?: "gzip" | "none";
            /**
             * Column separator
             * @description Default: ",".
             * @enum {string}
             */
            delimiter?: "," | ";" | "\t" | "|";
            /**
             * Spreadsheet formula protection
             * @description `quote` prefixes text values starting with = + - @ TAB or CR with ' so that spreadsheets show them instead of running them as formulas (OWASP CSV injection). Numbers, dates and booleans are never changed. Default: "none".
             * @enum {string}
             */
            formulaEscaping?: "none" | "quote";
            /**
             * Host key fingerprint (SHA-256)
             * @description Pins the server host key (`ssh-keygen -l -E sha256`). Without it, `connection verify` records the key.
             */
            hostKeySha256?: string;
            /**
             * Connection timeout (milliseconds)
             * @description How long to wait for the server to answer the login, in milliseconds; default 20,000.
             */
            readyTimeoutMs?: number;
        };
        /** @description Settings of a SFTP connection to change, merged over the current ones; null takes a setting away (its default applies again) */
        SftpConnectionConfigPatch: {
            host?: string | null;
            port?: number | null;
            username?: string | null;
            password?: string | null;
            privateKey?: string | null;
            privateKeyFile?: string | null;
            passphrase?: string | null;
            folder?: string | null;
            compression?: ("gzip" | "none") | null;
            delimiter?: ("," | ";" | "\t" | "|") | null;
            formulaEscaping?: ("none" | "quote") | null;
            hostKeySha256?: string | null;
            readyTimeoutMs?: number | null;
        };
        /** @description The config of an export to SFTP: the engine's keys and the destination's settings */
        SftpExportConfig: {
            /** @description Default: {}. */
            mapping?: {
                [key: string]: string;
            };
            /**
             * @description Default: "full".
             * @enum {string}
             */
            syncMode?: "full";
            /** @description This export's own alert webhook, beside the home's */
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            };
            /** @description Rows per file part; default: one file per source */
            rowsPerFile?: number;
        };
        /** @description Keys of an export to SFTP to change, merged over the current config; null takes a key away; mapping is replaced whole */
        SftpExportConfigPatch: {
            mapping?: {
                [key: string]: string;
            } | null;
            syncMode?: "full" | null;
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            } | null;
            rowsPerFile?: number | null;
        };
        SftpConnectionCreate: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "sftp";
            name: string;
            config: components["schemas"]["SftpConnectionConfig"];
            /** @enum {string} */
            usableBy?: "admins" | "admins-and-contributors";
            acceptPrivacyTerms?: boolean;
        };
        SftpConnectionDraft: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "sftp";
            name?: string;
            config: components["schemas"]["SftpConnectionConfig"];
        };
        /** @description The settings of a Microsoft Advertising (Customer Match) connection; secrets are write-only */
        MicrosoftAdvertisingConnectionConfig: {
            /**
             * Client ID
             * @description Application (client) id of the Azure app registration.
             */
            clientId: string;
            /**
             * Client secret
             * @description Client secret, for web (confidential) app registrations only; public (native) clients send none.
             */
            clientSecret?: string;
            /**
             * Refresh token
             * @description OAuth refresh token; "Sign in with Microsoft Advertising" in the web app or `outflow connection authorize <name>` obtains one. Outflow stores rotated tokens itself.
             */
            refreshToken?: string;
            /**
             * Developer token
             * @description Microsoft Advertising API developer token (production or sandbox).
             */
            developerToken: string;
            /**
             * Base URL
             * Format: uri
             * @description Campaign Management REST v13 base URL (sandbox: https://campaign.api.sandbox.bingads.microsoft.com/CampaignManagement/v13). Default: "https://campaign.api.bingads.microsoft.com/CampaignManagement/v13".
             */
            baseUrl?: string;
            /**
             * Authority URL
             * Format: uri
             * @description Microsoft identity platform authority; the token URL is `<authorityUrl>/oauth2/v2.0/token`. Default: "https://login.microsoftonline.com/common".
             */
            authorityUrl?: string;
            /**
             * Requests per second
             * @description API requests per second for this connection (default 1; Microsoft publishes no limit).
             */
            requestsPerSecond?: number;
            /**
             * Customer ID
             * @description Used only by `connection verify` to read the customer lists of one account.
             */
            customerId?: string;
            /**
             * Account ID
             * @description Used only by `connection verify`, together with customerId.
             */
            accountId?: string;
        };
        /** @description Settings of a Microsoft Advertising (Customer Match) connection to change, merged over the current ones; null takes a setting away (its default applies again) */
        MicrosoftAdvertisingConnectionConfigPatch: {
            clientId?: string | null;
            clientSecret?: string | null;
            refreshToken?: string | null;
            developerToken?: string | null;
            baseUrl?: string | null;
            authorityUrl?: string | null;
            requestsPerSecond?: number | null;
            customerId?: string | null;
            accountId?: string | null;
        };
        /** @description The config of an export to Microsoft Advertising (Customer Match): the engine's keys and the destination's settings */
        MicrosoftAdvertisingExportConfig: {
            /** @description Default: {}. */
            mapping?: {
                [key: string]: string;
            };
            /**
             * @description Default: "full".
             * @enum {string}
             */
            syncMode?: "full" | "upsert" | "mirror";
            /** @description This export's own alert webhook, beside the home's */
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            };
            /**
             * Customer ID
             * @description Manager account (customer) id: the CustomerId header.
             */
            customerId: string;
            /**
             * Account ID
             * @description Ad account id that owns the customer lists: the CustomerAccountId header.
             */
            accountId: string;
        };
        /** @description Keys of an export to Microsoft Advertising (Customer Match) to change, merged over the current config; null takes a key away; mapping is replaced whole */
        MicrosoftAdvertisingExportConfigPatch: {
            mapping?: {
                [key: string]: string;
            } | null;
            syncMode?: ("full" | "upsert" | "mirror") | null;
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            } | null;
            customerId?: string | null;
            accountId?: string | null;
        };
        MicrosoftAdvertisingConnectionCreate: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "microsoft-advertising";
            name: string;
            config: components["schemas"]["MicrosoftAdvertisingConnectionConfig"];
            /** @enum {string} */
            usableBy?: "admins" | "admins-and-contributors";
            acceptPrivacyTerms?: boolean;
        };
        MicrosoftAdvertisingConnectionDraft: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "microsoft-advertising";
            name?: string;
            config: components["schemas"]["MicrosoftAdvertisingConnectionConfig"];
        };
        /** @description The settings of a Campaign Monitor connection; secrets are write-only */
        CampaignMonitorConnectionConfig: {
            /** API key */
            apiKey: string;
            /**
             * Base URL
             * Format: uri
             * @description Default: "https://api.createsend.com/api/v3.3".
             */
            baseUrl?: string;
            /** Requests per second */
            requestsPerSecond?: number;
        };
        /** @description Settings of a Campaign Monitor connection to change, merged over the current ones; null takes a setting away (its default applies again) */
        CampaignMonitorConnectionConfigPatch: {
            apiKey?: string | null;
            baseUrl?: string | null;
            requestsPerSecond?: number | null;
        };
        /** @description The config of an export to Campaign Monitor: the engine's keys and the destination's settings */
        CampaignMonitorExportConfig: {
            /** @description Default: {}. */
            mapping?: {
                [key: string]: string;
            };
            /**
             * @description Default: "full".
             * @enum {string}
             */
            syncMode?: "full" | "upsert" | "mirror";
            /** @description This export's own alert webhook, beside the home's */
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            };
            /**
             * List ID
             * @description The list's API ID (Campaign Monitor: the list's settings page).
             */
            listId: string;
            /**
             * Re-add unsubscribed addresses
             * @description Re-add addresses that unsubscribed, bounced, were deleted or are suppressed. Only with fresh consent. Default: false.
             */
            resubscribe?: boolean;
            /**
             * Restart automations for re-added addresses
             * @description For resubscribed addresses, restart subscription-based automations instead of resuming them. Default: false.
             */
            restartSubscriptionBasedAutoresponders?: boolean;
            /**
             * Start automations for new subscribers
             * @description Start subscription-based automations for imported subscribers (off: imports trigger none). Default: false.
             */
            queueSubscriptionBasedAutoresponders?: boolean;
            /**
             * Consent to track
             * @description Consent to track sent with every subscriber. Default: "Unchanged".
             * @enum {string}
             */
            consentToTrack?: "Yes" | "No" | "Unchanged";
            /**
             * How mirror sync removes members
             * @description How mirror sync removes members who left the segment: unsubscribe (keeps history) or delete. Default: "unsubscribe".
             * @enum {string}
             */
            removal?: "unsubscribe" | "delete";
        };
        /** @description Keys of an export to Campaign Monitor to change, merged over the current config; null takes a key away; mapping is replaced whole */
        CampaignMonitorExportConfigPatch: {
            mapping?: {
                [key: string]: string;
            } | null;
            syncMode?: ("full" | "upsert" | "mirror") | null;
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            } | null;
            listId?: string | null;
            resubscribe?: boolean | null;
            restartSubscriptionBasedAutoresponders?: boolean | null;
            queueSubscriptionBasedAutoresponders?: boolean | null;
            consentToTrack?: ("Yes" | "No" | "Unchanged") | null;
            removal?: ("unsubscribe" | "delete") | null;
        };
        CampaignMonitorConnectionCreate: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "campaign-monitor";
            name: string;
            config: components["schemas"]["CampaignMonitorConnectionConfig"];
            /** @enum {string} */
            usableBy?: "admins" | "admins-and-contributors";
            acceptPrivacyTerms?: boolean;
        };
        CampaignMonitorConnectionDraft: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "campaign-monitor";
            name?: string;
            config: components["schemas"]["CampaignMonitorConnectionConfig"];
        };
        /** @description The settings of a Iterable connection; secrets are write-only */
        IterableConnectionConfig: {
            /**
             * API key
             * @description A server-side API key of the Iterable project (Integrations → API keys). Sent in the Api-Key header.
             */
            apiKey: string;
            /**
             * Region
             * @description The data center of the project: us (api.iterable.com) or eu (api.eu.iterable.com). Default: "us".
             * @enum {string}
             */
            region?: "us" | "eu";
            /**
             * Project type
             * @description How the Iterable project identifies users, chosen when the project was created (Settings → Project settings): email (e-mail-based, the classic type and the default here), userId (userID-based: exports must map userId) or hybrid (either; Outflow identifies by userId when a member has one, else by e-mail). Decides which identifier Outflow sends. Default: "email".
             * @enum {string}
             */
            projectType?: "email" | "userId" | "hybrid";
            /**
             * Base URL
             * Format: uri
             * @description Overrides the API address derived from the region (a proxy or a test server).
             */
            baseUrl?: string;
            /**
             * Most profiles allowed
             * @description Refuse runs that would send more profiles than this through the connection. No limit when empty.
             */
            maxProfiles?: number;
            /**
             * Requests per second
             * @description Requests per second to the project. Default 5: Iterable does not state a limit for list subscribe/unsubscribe.
             */
            requestsPerSecond?: number;
        };
        /** @description Settings of a Iterable connection to change, merged over the current ones; null takes a setting away (its default applies again) */
        IterableConnectionConfigPatch: {
            apiKey?: string | null;
            region?: ("us" | "eu") | null;
            projectType?: ("email" | "userId" | "hybrid") | null;
            baseUrl?: string | null;
            maxProfiles?: number | null;
            requestsPerSecond?: number | null;
        };
        /** @description The config of an export to Iterable: the engine's keys and the destination's settings */
        IterableExportConfig: {
            /** @description Default: {}. */
            mapping?: {
                [key: string]: string;
            };
            /**
             * @description Default: "full".
             * @enum {string}
             */
            syncMode?: "full" | "upsert" | "mirror";
            /** @description This export's own alert webhook, beside the home's */
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            };
            /**
             * Update existing users only
             * @description Skip members Iterable does not know instead of creating them (honoured by userId-based and hybrid projects only). Default: false.
             */
            updateExistingUsersOnly?: boolean;
        };
        /** @description Keys of an export to Iterable to change, merged over the current config; null takes a key away; mapping is replaced whole */
        IterableExportConfigPatch: {
            mapping?: {
                [key: string]: string;
            } | null;
            syncMode?: ("full" | "upsert" | "mirror") | null;
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            } | null;
            updateExistingUsersOnly?: boolean | null;
        };
        IterableConnectionCreate: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "iterable";
            name: string;
            config: components["schemas"]["IterableConnectionConfig"];
            /** @enum {string} */
            usableBy?: "admins" | "admins-and-contributors";
            acceptPrivacyTerms?: boolean;
        };
        IterableConnectionDraft: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "iterable";
            name?: string;
            config: components["schemas"]["IterableConnectionConfig"];
        };
        /** @description The settings of a Autopilot (Journeys) connection; secrets are write-only */
        AutopilotConnectionConfig: {
            /**
             * API key
             * @description Autopilot API key (Settings → Autopilot API → Generate); sent as the autopilotapikey header.
             */
            apiKey: string;
            /**
             * Base URL
             * Format: uri
             * @description Autopilot REST API v1 base URL. Default: "https://api2.autopilothq.com/v1".
             */
            baseUrl?: string;
            /**
             * Requests per second
             * @description Request pace for this account; Autopilot documents 5 requests per second. Default: 5.
             */
            requestsPerSecond?: number;
            /**
             * Most profiles allowed
             * @description Profiles allowed across all exports of this connection (the plan's allowance). Default: 100000.
             */
            maxProfiles?: number;
            /**
             * Warn from this many profiles
             * @description Warn from this many profiles across all exports. Default: 80000.
             */
            warnProfiles?: number;
        };
        /** @description Settings of a Autopilot (Journeys) connection to change, merged over the current ones; null takes a setting away (its default applies again) */
        AutopilotConnectionConfigPatch: {
            apiKey?: string | null;
            baseUrl?: string | null;
            requestsPerSecond?: number | null;
            maxProfiles?: number | null;
            warnProfiles?: number | null;
        };
        /** @description The config of an export to Autopilot (Journeys): the engine's keys and the destination's settings */
        AutopilotExportConfig: {
            /** @description Default: {}. */
            mapping?: {
                [key: string]: string;
            };
            /**
             * @description Default: "full".
             * @enum {string}
             */
            syncMode?: "full" | "upsert" | "mirror";
            /** @description This export's own alert webhook, beside the home's */
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            };
        };
        /** @description Keys of an export to Autopilot (Journeys) to change, merged over the current config; null takes a key away; mapping is replaced whole */
        AutopilotExportConfigPatch: {
            mapping?: {
                [key: string]: string;
            } | null;
            syncMode?: ("full" | "upsert" | "mirror") | null;
            notify?: {
                /** @description The full webhook URL; stored encrypted, shown masked */
                url: string;
                /** @description default ["failed", "recovered"] */
                on?: (("failed" | "recovered") | {
                    "rejections-above": number;
                })[];
            } | null;
        };
        AutopilotConnectionCreate: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "autopilot";
            name: string;
            config: components["schemas"]["AutopilotConnectionConfig"];
            /** @enum {string} */
            usableBy?: "admins" | "admins-and-contributors";
            acceptPrivacyTerms?: boolean;
        };
        AutopilotConnectionDraft: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "autopilot";
            name?: string;
            config: components["schemas"]["AutopilotConnectionConfig"];
        };
        ConnectionPage: {
            items: components["schemas"]["Connection"][];
            /** @description Send it as `cursor` for the next page; null on the last page */
            nextCursor: string | null;
        };
        Connection: {
            /**
             * @description Immutable; every path that takes the name takes it too
             * @example exp_0mwt1ab2c3d4e5f6
             */
            id: string;
            name: string;
            type: string;
            config?: {
                [key: string]: unknown;
            };
            /** @enum {string} */
            usableBy: "admins" | "admins-and-contributors";
            privacyConsent?: {
                acceptedBy: string;
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                acceptedAt: string;
            };
            hostKeySha256?: string;
            lastVerification?: unknown;
            attention?: unknown;
            signedIn?: {
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                at: string;
                by: string;
            };
            /**
             * @description Set when the connection's API is on this machine: a local stand-in of the vendor (the demo's sandboxes, `outflow sandbox`), not the vendor itself
             * @enum {boolean}
             */
            sandbox?: true;
            createdBy?: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            createdAt?: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            updatedAt?: string;
            /** @description What the caller may do to the connection, decided by the server with the checks the requests make: a client shows the allowed actions and the reason for the others. Contributors see connections usable by contributors, without settings: name, type, who may use it, when it was created, and the outcome of its last verification. */
            actions: {
                edit: components["schemas"]["Action"];
                verify: components["schemas"]["Action"];
                remove: components["schemas"]["Action"];
                signIn: components["schemas"]["Action"];
            };
            /**
             * @description Administrators: the version shown, the same as the ETag header; send it as If-Match to edit or remove exactly this version
             * @example "conn_0mwt1ab2c3d4e5f6.3"
             */
            etag?: string;
        };
        Action: {
            allowed: boolean;
            /**
             * @description Why the caller may not: the detail of the 403 (or 422) the request would get
             * @example Only administrators may edit connections. Ask an administrator.
             */
            reason?: string;
        };
        Problem: {
            /**
             * @description The problem type: urn:outflow:problem:<code>
             * @example urn:outflow:problem:not_found
             */
            type: string;
            /**
             * @description The problem type's summary, the same for every occurrence
             * @example Not found
             */
            title: string;
            /**
             * @description The HTTP status code
             * @example 404
             */
            status: number;
            /**
             * @description What went wrong and what to do; the CLI and the web app show it as it is
             * @example No export named "nightly".
             */
            detail: string;
            /**
             * @description One code per meaning: invalid_request (400, the request does not match the schema), invalid_input (422, well-formed but refused), invalid_filter, not_found, conflict, run_conflict, precondition_failed (412, If-Match names an older version), edit_conflict (409, another edit was saved while this one was checked), …
             * @example not_found
             */
            code: string;
            /** @description Each field that is wrong (dotted path) and what is wrong with it */
            issues?: {
                path: string;
                message: string;
            }[];
            /** @description invalid_filter: the 0-based character offset in the filter where it goes wrong */
            position?: number;
            /** @description A run already going on for this export (409) */
            runId?: string;
            /**
             * @description precondition_failed (412) and edit_conflict (409): the ETag of the current version of the resource, which someone else saved first
             * @example "exp_0mwt1ab2c3d4e5f6.4"
             */
            etag?: string;
            /** @description A step that fixes it, which a client can offer as an action: refresh that segment, or move the export to another connection */
            remedy?: {
                /** @enum {string} */
                action: "refresh-segment";
                segment: string;
            } | {
                /** @enum {string} */
                action: "move-export";
                export: string;
            };
            /**
             * @description rate_limited (429): which limit was reached, the caller's token or session, or its address
             * @enum {string}
             */
            limit?: "token" | "address";
            /** @description rate_limited (429): the same as the Retry-After header */
            retryAfterSeconds?: number;
        };
        ConnectionCreate: components["schemas"]["SftpConnectionCreate"] | components["schemas"]["MicrosoftAdvertisingConnectionCreate"] | components["schemas"]["CampaignMonitorConnectionCreate"] | components["schemas"]["IterableConnectionCreate"] | components["schemas"]["AutopilotConnectionCreate"];
        ConnectionPatch: {
            name?: string;
            /** @description Settings to change, for the connection's destination type */
            config?: components["schemas"]["SftpConnectionConfigPatch"] | components["schemas"]["MicrosoftAdvertisingConnectionConfigPatch"] | components["schemas"]["CampaignMonitorConnectionConfigPatch"] | components["schemas"]["IterableConnectionConfigPatch"] | components["schemas"]["AutopilotConnectionConfigPatch"];
            /** @enum {string} */
            usableBy?: "admins" | "admins-and-contributors";
        };
        Removed: {
            removed: string;
        } & {
            [key: string]: unknown;
        };
        VerifyResult: {
            connection: string;
            ok: boolean;
            code?: string;
            message?: string;
            details?: {
                [key: string]: unknown;
            };
        };
        ConnectionDraft: components["schemas"]["SftpConnectionDraft"] | components["schemas"]["MicrosoftAdvertisingConnectionDraft"] | components["schemas"]["CampaignMonitorConnectionDraft"] | components["schemas"]["IterableConnectionDraft"] | components["schemas"]["AutopilotConnectionDraft"];
        VerifyRequest: {
            acceptHostKey?: string;
        };
        SignInStarted: {
            connection: string;
            authorizationUrl: string;
            redirectUri: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            expiresAt: string;
        };
        ExportPage: {
            items: components["schemas"]["Export"][];
            /** @description Send it as `cursor` for the next page; null on the last page */
            nextCursor: string | null;
        };
        Export: {
            /**
             * @description Immutable; every path that takes the name takes it too
             * @example exp_0mwt1ab2c3d4e5f6
             */
            id: string;
            name: string;
            connection: string;
            type: string;
            segments?: string[];
            entities?: string[];
            config: {
                [key: string]: unknown;
            };
            createdBy: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            createdAt: string;
            /**
             * @description Its connection was removed: runs are refused until the export is moved to another connection
             * @enum {boolean}
             */
            connectionRemoved?: true;
            /** @description What the caller may do to the export, decided by the server with the checks the requests make: a client shows the allowed actions and the reason for the others */
            actions: {
                run: components["schemas"]["Action"] & unknown;
                edit: components["schemas"]["Action"];
                remove: components["schemas"]["Action"];
                schedule: components["schemas"]["Action"] & unknown;
            };
            warnings?: string[];
            /**
             * @description The version shown, the same as the ETag header: send it as If-Match to edit or remove exactly this version
             * @example "exp_0mwt1ab2c3d4e5f6.3"
             */
            etag: string;
        };
        SavedExport: components["schemas"]["Export"] & {
            /** @description What saving found worth saying: another export writing into the same list, a mapped field the destination will not store */
            warnings: string[];
        };
        ExportCreate: {
            name: string;
            connection: string;
            segments?: string[];
            entities?: string[];
            /** @description The export's config for its connection's destination type (GET /api/v1/destinations describes each) */
            config?: components["schemas"]["SftpExportConfig"] | components["schemas"]["MicrosoftAdvertisingExportConfig"] | components["schemas"]["CampaignMonitorExportConfig"] | components["schemas"]["IterableExportConfig"] | components["schemas"]["AutopilotExportConfig"];
            /** @description A schedule of its own, saved with the export or not at all (the cron expression is checked first); null takes it away */
            schedule?: {
                cron: string;
                timeZone?: string;
            } | null;
        };
        ExportManifest: {
            export: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            generatedAt: string;
            createdBy: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            createdAt: string;
            destination: {
                type: string;
                title: string;
                connection: string;
                /** @description The connection's non-secret settings; credentials are left out */
                account: {
                    [key: string]: unknown;
                };
                /** @description The export's destination settings (list, audience, account ids) */
                settings: {
                    [key: string]: unknown;
                };
            };
            sources: {
                /** @enum {string} */
                kind: "segment" | "entity";
                name: string;
                entity: string;
                filter?: string;
                members?: number | null;
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                refreshedAt?: string | null;
            }[];
            syncMode: string;
            /** @description Every column that leaves, and where it lands */
            fields: {
                entity: string;
                column: string;
                target: string;
                title?: string;
            }[];
            /** @description Who accepted the destination’s data privacy terms for the connection, and when */
            consent: {
                acceptedBy: string;
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                acceptedAt: string;
            } | null;
            usableBy: string | null;
            schedule: {
                /** @enum {string} */
                mode: "own" | "refresh" | "manual";
                paused: boolean;
                cron?: string[];
                days?: string;
                times?: string[];
                timeZone?: string;
                next: {
                    /**
                     * Format: date-time
                     * @example 2026-11-30T05:00:00.000Z
                     */
                    local: string;
                    /**
                     * Format: date-time
                     * @example 2026-11-30T05:00:00.000Z
                     */
                    utc: string;
                }[];
            };
            lastRuns: {
                id: string;
                status: string;
                trigger: string;
                startedBy: string;
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                finishedAt: string | null;
                sent: number;
                rejected: number;
            }[];
        };
        ExportPatch: {
            name?: string;
            connection?: string;
            segments?: string[];
            entities?: string[];
            /** @description Keys to change, for the export's destination type; null takes a key away */
            config?: components["schemas"]["SftpExportConfigPatch"] | components["schemas"]["MicrosoftAdvertisingExportConfigPatch"] | components["schemas"]["CampaignMonitorExportConfigPatch"] | components["schemas"]["IterableExportConfigPatch"] | components["schemas"]["AutopilotExportConfigPatch"];
            /** @description A schedule of its own, saved with the export or not at all (the cron expression is checked first); null takes it away */
            schedule?: {
                cron: string;
                timeZone?: string;
            } | null;
        };
        Run: {
            id: string;
            export: string;
            /** @enum {string} */
            status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
            trigger: string;
            startedBy: string;
            resumedFrom?: string;
            /** @description The run that continues this one; set once it was resumed (it can then no longer be resumed). */
            resumedBy?: string;
            /** @description Whether resuming this run continues anything now: failed or cancelled, neither resumed yet nor older than a run of its export that succeeded, and not refused before it sent anything (POST /api/runs/{id}/resume then starts the export over, like a new run). */
            resumable: boolean;
            entities: {
                name: string;
                rows: number;
                files?: {
                    path: string;
                    rows: number;
                    bytes: number;
                }[];
                sent?: number;
                rejected?: number;
                removed?: number;
                added?: number;
                updated?: number;
                unchanged?: number;
            }[];
            rows: number | null;
            rowsDone?: number;
            sent: number;
            rejected: number;
            notAttempted: number;
            rejections: {
                source: string;
                key: string;
                code: string;
                reason: string;
            }[];
            rejectionsTotal?: number;
            warnings: string[];
            /** @description Scale-out mode: the worker executing this running run stopped answering at `since`; another worker takes it over from its checkpoint (the run then ends failed/interrupted with `resumedBy`). */
            handover?: {
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                since: string;
                message: string;
            };
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            queuedAt: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            startedAt: string | null;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            finishedAt: string | null;
            error?: {
                code: string;
                message: string;
            };
        };
        DryRunReport: {
            export: string;
            /** @enum {boolean} */
            dryRun: true;
            syncMode: string;
            fullResync: boolean;
            sources: {
                name: string;
                members: number;
                add: number;
                update: number;
                remove: number;
                reject: number;
                unchanged: number;
            }[];
            members: number;
            add: number;
            update: number;
            remove: number;
            reject: number;
            unchanged: number;
            rejections: components["schemas"]["Rejection"][];
            refusal: {
                code: string;
                message: string;
            } | null;
            warnings: string[];
            notes: string[];
        };
        Rejection: {
            /** @description The segment (or entity) the record came from */
            source: string;
            /** @description The profile's key */
            key: string;
            /** @example invalid_email */
            code: string;
            reason: string;
        };
        RunPage: {
            items: components["schemas"]["RunListItem"][];
            /** @description Send it as `cursor` for the next page; null on the last page */
            nextCursor: string | null;
        };
        RunListItem: {
            id: string;
            export: string;
            status: string;
            trigger: string;
            startedBy: string;
            rows: number | null;
            rowsDone: number;
            sent: number;
            rejected: number;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            queuedAt: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            startedAt: string | null;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            finishedAt: string | null;
            error?: {
                code: string;
                message: string;
            };
        };
        RejectionPage: {
            items: components["schemas"]["Rejection"][];
            /** @description Send it as `cursor` for the next page; null on the last page */
            nextCursor: string | null;
        };
        Notify: {
            /**
             * @description The webhook with its secret part masked
             * @example https://hooks.slack.com/services/***
             */
            url: string;
            on: (("failed" | "recovered") | {
                "rejections-above": number;
            })[];
            updatedBy: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            updatedAt: string;
            /**
             * @description The version of the home's alert setting, the same as the ETag header: send it as If-Match to change or remove exactly this one
             * @example "notify.3"
             */
            etag: string;
        };
        NotifyInput: {
            /**
             * @description The full webhook URL; stored encrypted, never shown again
             * @example https://hooks.slack.com/services/T000/B000/XXXX
             */
            url: string;
            /** @description "failed", "recovered", {"rejections-above": <percent>}; default ["failed", "recovered"] */
            on?: unknown[];
        };
        Entity: {
            name: string;
            key: string;
            rows: number;
            columns: ({
                name: string;
                type: string;
            } & {
                [key: string]: unknown;
            })[];
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            loadedAt?: string | null;
            /** @description The table or view an attached entity reads live (PostgreSQL profile store) */
            attached?: string;
        };
        EntityAttach: {
            /**
             * @description schema.table of a table or view in the profile store database
             * @example crm.customers
             */
            table: string;
            /**
             * @description Key column (default profile_id)
             * @example customer_id
             */
            key?: string;
        };
        SegmentPage: {
            items: components["schemas"]["Segment"][];
            /** @description Send it as `cursor` for the next page; null on the last page */
            nextCursor: string | null;
        };
        Segment: {
            /**
             * @description Immutable; every path that takes the name takes it too
             * @example exp_0mwt1ab2c3d4e5f6
             */
            id: string;
            name: string;
            entity: string;
            filter: string;
            members: number | null;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            refreshedAt: string | null;
            createdBy: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            createdAt: string;
            /** @description What the caller may do to the segment, decided by the server with the checks the requests make (contributors may not change or remove a segment another user's export uses): a client shows the allowed actions and the reason for the others */
            actions: {
                edit: components["schemas"]["Action"];
                refresh: components["schemas"]["Action"];
                remove: components["schemas"]["Action"];
            };
            /**
             * @description The version shown, the same as the ETag header: send it as If-Match to edit or remove exactly this version
             * @example "seg_0mwt1ab2c3d4e5f6.3"
             */
            etag: string;
        };
        SegmentCreate: {
            name: string;
            entity?: string;
            where: string;
        };
        SegmentPatch: {
            entity?: string;
            where?: string;
        };
        SegmentPreviewResult: {
            entity: string;
            members: number;
        };
        SegmentPreview: {
            entity?: string;
            where: string;
        };
        SegmentRefreshResult: {
            name: string;
            members: number;
        }[];
        EntitySamples: {
            entity: string;
            columns: {
                name: string;
                type: string;
                values: string[];
            }[];
        };
        Destination: {
            id: string;
            title: string;
            exports: string;
            docsUrl?: string;
            connection: {
                [key: string]: unknown;
            };
            exportSettings: {
                [key: string]: unknown;
            };
            fields?: {
                [key: string]: unknown;
            };
            extraFields?: unknown;
            limits?: {
                [key: string]: unknown;
            };
        };
        AuditPage: {
            items: components["schemas"]["AuditEntry"][];
            /** @description Send it as `cursor` for the next page; null on the last page */
            nextCursor: string | null;
        };
        AuditEntry: {
            id: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            at: string;
            actor: string;
            role: string;
            via: string;
            address: string | null;
            action: string;
            targetType: string;
            target: string | null;
            outcome: string;
            details: {
                [key: string]: unknown;
            };
        };
        Backup: {
            path: string;
            /** @enum {string} */
            format: "outflow-backup";
            /** @enum {number} */
            version: 1;
            /** Format: date-time */
            takenAt: string;
            schemaVersion: string;
            files: {
                name: string;
                bytes: number;
            }[];
            /** @enum {string} */
            key: "included" | "left-out" | "environment";
            keyCheck: string;
            keyNote: string;
            runsInProgress: string[];
        };
        Session: {
            user: {
                name: string;
                /** @enum {string} */
                role: "admin" | "contributor" | "viewer";
                mustChangePassword: boolean;
                /** @description What the user may do in the home beyond one resource (create exports, segments and connections; the schedule, users and audit log; download a run's rejected records), decided by the server with the checks those requests make, each refusal with its reason */
                can: {
                    createExport: components["schemas"]["Action"];
                    createSegment: components["schemas"]["Action"];
                    createConnection: components["schemas"]["Action"];
                    setSchedule: components["schemas"]["Action"];
                    manageUsers: components["schemas"]["Action"];
                    readAudit: components["schemas"]["Action"];
                    downloadRejections: components["schemas"]["Action"];
                };
            };
            csrfToken?: string;
            /**
             * Format: date-time
             * @description When a browser session ends; absent for an API token, which lasts until it is revoked
             * @example 2026-11-30T05:00:00.000Z
             */
            expiresAt?: string;
        };
        Login: {
            name: string;
            password: string;
        };
        PasswordChange: {
            currentPassword: string;
            newPassword: string;
        };
        UserPage: {
            items: components["schemas"]["User"][];
            /** @description Send it as `cursor` for the next page; null on the last page */
            nextCursor: string | null;
        };
        User: {
            /**
             * @description Immutable; every path that takes the name takes it too
             * @example exp_0mwt1ab2c3d4e5f6
             */
            id: string;
            name: string;
            /** @enum {string} */
            role: "admin" | "contributor" | "viewer";
            mustChangePassword: boolean;
            createdBy: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            updatedAt: string;
            /**
             * @description The version shown, the same as the ETag header: send it as If-Match to edit or remove exactly this version
             * @example "user_0mwt1ab2c3d4e5f6.3"
             */
            etag: string;
        };
        UserWithPassword: {
            name: string;
            /** @enum {string} */
            role: "admin" | "contributor" | "viewer";
            password: string;
        };
        UserCreate: {
            name: string;
            /**
             * @description admin | contributor | viewer; any other is refused (422)
             * @enum {string}
             */
            role: "admin" | "contributor" | "viewer";
        };
        UserPatch: {
            /**
             * @description admin | contributor | viewer; any other is refused (422)
             * @enum {string}
             */
            role: "admin" | "contributor" | "viewer";
        };
        UserRemoved: {
            removed: string;
            tokensRevoked: number;
            sessionsEnded: number;
        };
        TokenPage: {
            items: components["schemas"]["Token"][];
            /** @description Send it as `cursor` for the next page; null on the last page */
            nextCursor: string | null;
        };
        Token: {
            id: string;
            name: string;
            user: string | null;
            prefix: string;
            createdBy: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            lastUsedAt: string | null;
        };
        CreatedToken: {
            token: string;
            id: string;
            name: string;
            user: string;
            prefix: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            createdAt: string;
        };
        TokenCreate: {
            user?: string;
            name?: string;
        };
        Schedule: {
            enabled: boolean;
            days?: string;
            times?: string[];
            cron?: string[];
            timeZone?: string;
            /** @description The next 5 fire times of the refresh, in the zone and in UTC */
            next: {
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                local: string;
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                utc: string;
            }[];
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            lastFiredAt: string | null;
            updatedBy?: string;
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            updatedAt?: string;
            /** @description Exports with a schedule of their own, or paused */
            exports: components["schemas"]["ExportSchedule"][];
            /** @description The exports the home's refresh runs (names): every export neither paused nor on a schedule of its own */
            refreshes: string[];
            /**
             * @description The version of the home's refresh schedule (on or off), the same as the ETag header: send it as If-Match to change or turn off exactly this one
             * @example "schedule.3"
             */
            etag: string;
        };
        ExportSchedule: {
            name: string;
            paused: boolean;
            cron?: string;
            timeZone?: string;
            next: {
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                local: string;
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                utc: string;
            }[];
        };
        ScheduleSet: {
            /** @example mon-fri */
            days?: string;
            /**
             * @example [
             *       "06:00",
             *       "18:00"
             *     ]
             */
            times?: string[];
            /** @example 0 6 * * 1-5 */
            cron?: string;
            /** @example Europe/Paris */
            timeZone?: string;
        };
        RefreshResult: {
            segments: {
                name: string;
                members?: number;
                error?: string;
            }[];
            runs: components["schemas"]["Run"][];
        };
        ExportScheduleSet: {
            /** @example 30 2 * * * */
            cron: string;
            /** @example America/New_York */
            timeZone?: string;
        };
        Status: {
            /**
             * @description `embedded`: the server executes runs itself; `distributed`: `outflow worker` processes take them from the queue in Redis
             * @enum {string}
             */
            mode: "embedded" | "distributed";
            /** @description Runs waiting for a worker, executing, and waiting for a retry */
            queue: {
                waiting: number;
                active: number;
                delayed: number;
            };
            workers: components["schemas"]["StatusWorker"][];
            /** @description How each destination account is paced now */
            limiter: {
                key: string;
                /** @description The connection, for accounts whose connection the caller may see */
                connection: string | null;
                type: string | null;
                /** @enum {string} */
                backend: "memory" | "redis";
                requestsPerSecond: number | null;
                /** @description How long a request asked for now would wait for its turn */
                waitMs: number;
                /** @description Until when a vendor's 429 (Retry-After) holds every request to the account */
                pausedUntil: string | null;
            }[];
            note?: string;
        };
        StatusWorker: {
            id: string;
            host: string;
            pid: number;
            concurrency: number;
            /** @description The runs it executes now */
            runs: {
                id: string;
                export: string | null;
            }[];
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            startedAt: string;
            /**
             * Format: date-time
             * @description When it last said it was alive
             * @example 2026-11-30T05:00:00.000Z
             */
            seenAt: string;
        };
        ConfigPlan: {
            file: string;
            hash: string;
            changes: {
                /** @enum {string} */
                kind: "entity" | "segment" | "connection" | "export" | "schedule" | "notify";
                name: string;
                /** @enum {string} */
                action: "create" | "update" | "remove";
                fields: {
                    field: string;
                    from?: unknown;
                    to?: unknown;
                    secret?: boolean;
                }[];
            }[];
            problems: {
                message: string;
                path: string;
                file: string;
                line?: number;
                column?: number;
            }[];
            unlisted: {
                kind: string;
                name: string;
            }[];
            warnings: string[];
            applied: boolean;
        };
        ConfigRequest: {
            document: string;
            /** @default outflow.yaml */
            file: string;
            /** @default {} */
            references: {
                [key: string]: string;
            };
            /** @default false */
            prune: boolean;
        };
        Overview: {
            /**
             * @description The window in days, today (UTC) included
             * @example 30
             */
            days: number;
            /**
             * Format: date-time
             * @description Start of the window: midnight UTC, days - 1 days ago
             * @example 2026-11-30T05:00:00.000Z
             */
            from: string;
            /**
             * Format: date-time
             * @description End of the window: now
             * @example 2026-11-30T05:00:00.000Z
             */
            to: string;
            /** @description Runs by the UTC day they were queued and how they ended: every day of the window, oldest first */
            runsByDay: {
                /** @example 2026-11-30 */
                day: string;
                succeeded: number;
                failed: number;
                cancelled: number;
                /** @description Still queued or running */
                active: number;
            }[];
            /** @description The window at once */
            totals: {
                runs: number;
                succeeded: number;
                failed: number;
                cancelled: number;
                active: number;
                sent: number;
                rejected: number;
            };
            /** @description Rows sent and rejected per destination type in the window, most sent first */
            destinations: {
                /**
                 * @description Destination type; null for runs whose connection was removed since
                 * @example iterable
                 */
                type: string | null;
                /** @example Iterable */
                title: string;
                runs: number;
                /** @description Rows delivered in the window (a resumed run counts only what it added) */
                sent: number;
                rejected: number;
            }[];
            /** @description Exports that need someone: last run failed, connection to sign in again, fix, verify or replace, paused. At most 50; attentionTotal counts them all */
            attention: {
                export: string;
                /** @enum {string} */
                reason: "failed" | "sign-in" | "connection-removed" | "connection-problem" | "verify" | "paused";
                /** @example Its last run failed (auth_failed). */
                message: string;
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                at: string | null;
                /** @description The failed run */
                runId?: string;
            }[];
            attentionTotal: number;
            /** @description The soonest scheduled refresh; null when nothing is scheduled */
            nextRefresh: {
                /**
                 * Format: date-time
                 * @example 2026-11-30T05:00:00.000Z
                 */
                utc: string;
                /**
                 * Format: date-time
                 * @description The schedule's zone's wall clock with its offset
                 * @example 2026-11-30T06:00:00+01:00
                 */
                local: string;
                /** @example Europe/Amsterdam */
                timeZone: string;
                /**
                 * @description `home`: the home's scheduled refresh; `export`: one export's own schedule
                 * @enum {string}
                 */
                scope: "home" | "export";
                export?: string;
            } | null;
        };
        SegmentRefreshPage: {
            items: components["schemas"]["SegmentRefresh"][];
            /** @description Send it as `cursor` for the next page; null on the last page */
            nextCursor: string | null;
        };
        SegmentRefresh: {
            /**
             * Format: date-time
             * @example 2026-11-30T05:00:00.000Z
             */
            at: string;
            members: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    listConnections: {
        parameters: {
            query?: {
                /** @description Items per page: default 100, at most 1000 */
                limit?: number;
                /** @description Opaque: the nextCursor of the page before; absent for the first page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of connections */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConnectionPage"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createConnection: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ConnectionCreate"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Connection"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use; or the first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getConnection: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The connection; secrets show as "set" */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Connection"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    removeConnection: {
        parameters: {
            query?: {
                force?: "true" | "false";
            };
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Removed"] & ({
                        orphanedExports: string[];
                    } & {
                        [key: string]: unknown;
                    });
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateConnection: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ConnectionPatch"];
            };
        };
        responses: {
            /** @description The edited connection */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Connection"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or another edit saved while this one was being checked (edit_conflict: nothing was saved; its etag member is the current version) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    verifyConnectionDraft: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ConnectionDraft"];
            };
        };
        responses: {
            /** @description The outcome, failed checks included; details.hostKeySha256 is the SFTP host key seen */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VerifyResult"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The destination refused or could not be reached */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    verifyConnection: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["VerifyRequest"];
            };
        };
        responses: {
            /** @description The outcome, failed checks included */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VerifyResult"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The destination refused or could not be reached */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    startMicrosoftSignIn: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Where to send the browser */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignInStarted"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    completeMicrosoftSignIn: {
        parameters: {
            query?: {
                state?: string;
                code?: string;
                error?: string;
                error_description?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Back to the Connections page, with signin=ok or signin=failed and a message; never a token, code or verifier */
            302: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The query does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listExports: {
        parameters: {
            query?: {
                /** @description Items per page: default 100, at most 1000 */
                limit?: number;
                /** @description Opaque: the nextCursor of the page before; absent for the first page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of exports */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportPage"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createExport: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ExportCreate"];
            };
        };
        responses: {
            /** @description Saved */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SavedExport"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use; or the first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The destination refused or could not be reached */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getExport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The export */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Export"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    removeExport: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed; its run history stays */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Removed"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateExport: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ExportPatch"];
            };
        };
        responses: {
            /** @description The edited export */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SavedExport"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or another edit saved while this one was being checked (edit_conflict: nothing was saved; its etag member is the current version) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The destination refused or could not be reached */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getExportManifest: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The manifest */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportManifest"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    startRun: {
        parameters: {
            query?: {
                /** @description Send every member once and rebuild the delivered state (mirror and upsert). */
                fullResync?: "true" | "false";
                /** @description Use POST /api/v1/exports/{id}/dry-run. true answers 307 to it (nothing is queued). */
                dryRun?: "true" | "false";
            };
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Queued */
            202: {
                headers: {
                    /** @description The queued run: GET it to follow its progress */
                    Location: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"];
                };
            };
            /** @description dryRun=true (kept for scripts written before POST /api/v1/exports/{id}/dry-run existed): the same request goes there, nothing is queued */
            307: {
                headers: {
                    /** @description The dry-run operation, with the same fullResync */
                    Location: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use; or the first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    dryRunExport: {
        parameters: {
            query?: {
                /** @description Send every member once and rebuild the delivered state (mirror and upsert). */
                fullResync?: "true" | "false";
            };
            header?: never;
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The report; nothing was sent */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DryRunReport"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listRuns: {
        parameters: {
            query?: {
                export?: string;
                /** @description Items per page: default 100, at most 1000 */
                limit?: number;
                /** @description Opaque: the nextCursor of the page before; absent for the first page */
                cursor?: string;
                /** @description Only runs in this state: queued, running, succeeded, failed, cancelled */
                status?: string;
                /** @description Only runs queued at or after this: a date (midnight UTC) or an ISO 8601 date-time with its offset */
                since?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of runs, newest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunPage"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listRunRejections: {
        parameters: {
            query?: {
                /** @description Items per page: default 100, at most 1000 */
                limit?: number;
                /** @description Opaque: the nextCursor of the page before; absent for the first page */
                cursor?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of rejected records */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RejectionPage"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getRunRejectionsCsv: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description RFC 4180 CSV with a header line */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": string;
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The run, with progress */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The run as it is now; it ends cancelled within seconds */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resumeRun: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new run, queued */
            202: {
                headers: {
                    /** @description The queued run: GET it to follow its progress */
                    Location: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use; or the first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getNotify: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The webhook, or null when none is set */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        notify: components["schemas"]["Notify"] | null;
                        /** @description The version of the alert setting (set or not), the same as the ETag header: send it as If-Match with PUT or DELETE */
                        etag: string;
                    };
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    setNotify: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NotifyInput"];
            };
        };
        responses: {
            /** @description The webhook as stored, its URL masked */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Notify"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    removeNotify: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Whether one was set */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        removed: boolean;
                        /** @description The version of the alert setting now */
                        etag: string;
                    };
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    attachEntity: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EntityAttach"];
            };
        };
        responses: {
            /** @description Attached */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Entity"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use; or the first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listSegments: {
        parameters: {
            query?: {
                /** @description Items per page: default 100, at most 1000 */
                limit?: number;
                /** @description Opaque: the nextCursor of the page before; absent for the first page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of segments with their member counts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SegmentPage"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createSegment: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SegmentCreate"];
            };
        };
        responses: {
            /** @description Created (refresh it to count its members) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Segment"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use; or the first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    removeSegment: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Removed"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateSegment: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SegmentPatch"];
            };
        };
        responses: {
            /** @description The edited segment */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Segment"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or another edit saved while this one was being checked (edit_conflict: nothing was saved; its etag member is the current version) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    previewSegment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SegmentPreview"];
            };
        };
        responses: {
            /** @description The member count the filter would give */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SegmentPreviewResult"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    refreshSegments: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Member counts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SegmentRefreshResult"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    refreshSegment: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Member count */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SegmentRefreshResult"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listEntities: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Entities in the profile store */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Entity"][];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getEntitySamples: {
        parameters: {
            query?: {
                /** @description Values per column, 1 to 5 (default 3) */
                limit?: number;
            };
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Sample values per column */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EntitySamples"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    loadEntity: {
        parameters: {
            query?: {
                key?: string;
                delimiter?: string;
                format?: "csv" | "parquet";
                /** @description the file's name on the caller's machine, named in error messages */
                filename?: string;
            };
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "text/csv": string;
                "application/vnd.apache.parquet": string;
            };
        };
        responses: {
            /** @description Loaded */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Entity"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listDestinations: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Destinations */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Destination"][];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listAuditEntries: {
        parameters: {
            query?: {
                since?: string;
                until?: string;
                actor?: string;
                action?: string;
                /** @description Items per page: default 100, at most 1000 */
                limit?: number;
                /** @description Opaque: the nextCursor of the page before; absent for the first page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of entries, newest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditPage"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    backupHome: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    path: string;
                    withoutKey?: boolean;
                };
            };
        };
        responses: {
            /** @description The backup written */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Backup"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getSession: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Session"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    signIn: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Login"];
            };
        };
        responses: {
            /** @description Signed in */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Session"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many failed sign-ins; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    signOut: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Signed out */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        signedOut: boolean;
                    };
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    renewLocalToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    renewKey: string;
                };
            };
        };
        responses: {
            /** @description A working local token */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        token: string;
                    };
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    changePassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PasswordChange"];
            };
        };
        responses: {
            /** @description Changed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        user: {
                            name: string;
                            /** @enum {string} */
                            role: "admin" | "contributor" | "viewer";
                            mustChangePassword: boolean;
                            /** @description What the user may do in the home beyond one resource (create exports, segments and connections; the schedule, users and audit log; download a run's rejected records), decided by the server with the checks those requests make, each refusal with its reason */
                            can: {
                                createExport: components["schemas"]["Action"];
                                createSegment: components["schemas"]["Action"];
                                createConnection: components["schemas"]["Action"];
                                setSchedule: components["schemas"]["Action"];
                                manageUsers: components["schemas"]["Action"];
                                readAudit: components["schemas"]["Action"];
                                downloadRejections: components["schemas"]["Action"];
                            };
                        };
                    };
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many failed sign-ins; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listUsers: {
        parameters: {
            query?: {
                /** @description Items per page: default 100, at most 1000 */
                limit?: number;
                /** @description Opaque: the nextCursor of the page before; absent for the first page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of users (administrators) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserPage"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createUser: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UserCreate"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserWithPassword"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use; or the first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    removeUser: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The user id, or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed, with how many of their tokens were revoked and sessions ended */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserRemoved"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateUser: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The user id, or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UserPatch"];
            };
        };
        responses: {
            /** @description Changed */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or another edit saved while this one was being checked (edit_conflict: nothing was saved; its etag member is the current version) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resetPassword: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path: {
                /** @description The user id, or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Reset */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserWithPassword"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    unlockSignIns: {
        parameters: {
            query?: {
                /** @description The user name */
                user?: string;
                /** @description The client address, as the audit log shows it */
                address?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Lifted (cleared: how many counts were removed) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        user: string | null;
                        address: string | null;
                        cleared: number;
                    };
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listTokens: {
        parameters: {
            query?: {
                /** @description Items per page: default 100, at most 1000 */
                limit?: number;
                /** @description Opaque: the nextCursor of the page before; absent for the first page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of active tokens (administrators: everyone's) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPage"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createToken: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TokenCreate"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedToken"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use; or the first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do; or this Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    revokeToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The token id, or its name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Token"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    setSchedule: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ScheduleSet"];
            };
        };
        responses: {
            /** @description The new schedule */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    turnScheduleOff: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule, now off */
            200: {
                headers: {
                    /** @description The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member. */
                    ETag: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    refreshNow: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Segments refreshed; runs queued (follow them with GET /api/runs/{id}), or failed saying why */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RefreshResult"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    setExportSchedule: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ExportScheduleSet"];
            };
        };
        responses: {
            /** @description The export's schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportSchedule"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    removeExportSchedule: {
        parameters: {
            query?: never;
            header?: {
                /** @description The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version. */
                "If-Match"?: string;
            };
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The export's schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportSchedule"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    pauseExport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The export's schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportSchedule"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resumeExport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The export's schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportSchedule"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request is well-formed but refused: the message says why and what to do */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getStatus: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The queue and its workers */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Status"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    exportConfig: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file and the environment variables it references */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        yaml: string;
                        variables: string[];
                    };
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    planConfig: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ConfigRequest"];
            };
        };
        responses: {
            /** @description The plan; `problems` lists what stops it, with line and column */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConfigPlan"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    applyConfig: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with `Idempotent-Replayed: true`. Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ConfigRequest"];
            };
        };
        responses: {
            /** @description What was applied; with `problems`, nothing was */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConfigPlan"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A name that exists, or a resource still in use; or the first request with this Idempotency-Key is still running */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This Idempotency-Key was first used with a different request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getOverview: {
        parameters: {
            query?: {
                /** @description The window in days, today (UTC) included: default 30, at most 90 */
                days?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The overview (any signed-in account) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Overview"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listSegmentRefreshes: {
        parameters: {
            query?: {
                /** @description Items per page: default 100, at most 1000 */
                limit?: number;
                /** @description Opaque: the nextCursor of the page before; absent for the first page */
                cursor?: string;
            };
            header?: never;
            path: {
                /** @description The id or the name */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of refreshes, newest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SegmentRefreshPage"];
                };
            };
            /** @description The request does not match the schema */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid token or session */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller may not do this */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is larger than the API takes */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A JSON body not sent as application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
