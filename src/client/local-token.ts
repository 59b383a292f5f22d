import { createHttp } from './http.ts';

/**
 * Asks the home's server for a working local CLI token, proving with the key from `<home>/server.json` that
 * this process can read the home. The server answers with its current token when that still works, else
 * issues a new one (and writes it into server.json for the next command).
 */
export async function renewLocalToken(url: string, renewKey: string): Promise<string> {
  // The route is public: the key is the credential, no token is sent.
  const http = createHttp(url, '');
  const { token } = await http.request<{ token: string }>('POST', '/api/v1/local-token', { body: { renewKey } });
  return token;
}
