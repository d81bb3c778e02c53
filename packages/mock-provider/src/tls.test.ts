import { describe, expect, it } from 'vitest';
import { chat, rawPost } from './helpers.test-suite.js';
import { startMockProvider } from './server.js';

// A self-signed test-only certificate for localhost / 127.0.0.1 (P-256, valid until 2126). Not a secret.
const KEY = `
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgudcQWtFduDiGJw0S
1y+PgmPMpZbWMAkexz4oT2e7qs2hRANCAATuy9aB7T1WtQ1qSAzIhOU8WPMU8pca
EXF6t05T9xlqImaGHURqsbzzdvYBblQinKlHsY/TCAw3ZncAJfCw6AHy
-----END PRIVATE KEY-----
`;
const CERT = `
-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUDVMFH4DA7WpeGMbeZRTyo6qw3SowCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyODE2MTMwMFoYDzIxMjYxMTA0
MTYxMzAwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATuy9aB7T1WtQ1qSAzIhOU8WPMU8pcaEXF6t05T9xlqImaGHURqsbzz
dvYBblQinKlHsY/TCAw3ZncAJfCw6AHyo28wbTAdBgNVHQ4EFgQUt80pQ4xgZsPg
h/XVW0RBtN3QK1QwHwYDVR0jBBgwFoAUt80pQ4xgZsPgh/XVW0RBtN3QK1QwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDRwAwRAIgCbpJgmbgyUu4V9U7z6VVjxfkYfhVNj9QBmQFvIlSfdMCIDpN
sgAai0iSQRxI+KQptznGmromnfhgN2Hp4kMfbT2K
-----END CERTIFICATE-----
`;

describe('tls', () => {
  it('serves HTTPS with the given key and certificate', async () => {
    const mock = await startMockProvider({ tls: { key: KEY, cert: CERT } });
    try {
      expect(mock.url).toBe(`https://127.0.0.1:${mock.port}`);
      const res = await rawPost(mock.url, '/v1/chat/completions', chat('secure hello'), { ca: CERT });
      expect(res.error).toBeUndefined();
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).choices[0].message.content).toBe('Mock answer to: secure hello');
      // A client that does not trust the certificate is refused.
      const untrusted = await rawPost(mock.url, '/v1/chat/completions', chat('x'));
      expect(untrusted.error).toBeDefined();
      expect(mock.stats().connections).toBe(2);
    } finally {
      await mock.close();
    }
  });
});
