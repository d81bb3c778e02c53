/** Per-call pool options: `gateway.complete(request, { pool: { freshConnection: true } })`. */
export interface PoolCallOptions {
  /**
   * Send this call's attempts on a new connection (full TLS handshake, no resumed session), closed once the
   * answer has been read (a stream: once it ended). The escape hatch for debugging a suspect pooled connection.
   */
  freshConnection?: boolean;
}

declare module '@flowgate/core' {
  interface CallOptions {
    /** Options for the pool plugin (`@flowgate/plugin-pool`). */
    pool?: PoolCallOptions;
  }
}
