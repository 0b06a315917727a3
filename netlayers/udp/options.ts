/**
 * Tunables of the UDP netlayer's data plane, with the defaults the issue
 * asks for (1200-byte datagrams, 2 MiB messages, 15-minute idle sessions).
 * Both peers use the same defaults; the receive limits below equal the send
 * limits so an honest sender never meets a refusal.
 */

export interface UdpDataOptions {
  /** Largest datagram we send, header and tag included. */
  datagramSize: number;
  /** Floor for datagram-size halving. */
  minDatagramSize: number;
  /** Largest message object accepted or sent. */
  maxMessageBytes: number;
  /**
   * Data datagrams in flight. Deno cannot enlarge SO_RCVBUF, which holds
   * about 90 datagrams of 1200 bytes, so stay well under that.
   */
  sendWindow: number;
  /** Datagrams sent back to back before pacing spreads the rest. */
  pacingBurst: number;
  /** Messages started but not yet delivered, per direction. */
  maxOpenMessages: number;
  /** Bytes of started, undelivered messages per direction (plus one message). */
  maxBufferedBytes: number;
  initialRto: number;
  minRto: number;
  maxRto: number;
  /** A packet is lost once one this many numbers newer is acked. */
  reorderThreshold: number;
  /** Full-size losses, with probes getting through, before halving. */
  halvingLosses: number;
  /** Ack at once after this many ack-eliciting datagrams. */
  ackEvery: number;
  /** Longest an ack waits for the input to drain (ms). */
  maxAckDelay: number;
  /** Packet numbers below the newest that each ack reports. */
  ackHistory: number;
  /** Heartbeat period while there is outstanding work (ms). */
  keepaliveInterval: number;
  /** Outstanding work fails after this long without hearing the peer (ms). */
  silentPeerTimeout: number;
  /** An incomplete message with no new fragment for this long is freed (ms). */
  reassemblyTimeout: number;
}

export const DEFAULT_DATA_OPTIONS: Readonly<UdpDataOptions> = Object.freeze({
  datagramSize: 1200,
  minDatagramSize: 320,
  maxMessageBytes: 2 * 1024 * 1024,
  sendWindow: 64,
  pacingBurst: 16,
  maxOpenMessages: 256,
  maxBufferedBytes: 8 * 1024 * 1024,
  initialRto: 200,
  minRto: 10,
  maxRto: 4_000,
  reorderThreshold: 3,
  halvingLosses: 8,
  ackEvery: 16,
  maxAckDelay: 5,
  ackHistory: 256,
  keepaliveInterval: 1_000,
  silentPeerTimeout: 15_000,
  reassemblyTimeout: 30_000,
});

export function resolveDataOptions(
  options: Partial<UdpDataOptions> = {},
): UdpDataOptions {
  const resolved = { ...DEFAULT_DATA_OPTIONS, ...options };
  for (const [key, value] of Object.entries(resolved)) {
    if (typeof value !== "number" || !(value > 0)) {
      throw new RangeError(`Option "${key}" must be positive, got "${value}"`);
    }
  }
  if (resolved.minDatagramSize < 128) {
    throw new RangeError(
      `Option "minDatagramSize" must be at least 128, got "${resolved.minDatagramSize}"`,
    );
  }
  if (resolved.datagramSize < resolved.minDatagramSize) {
    throw new RangeError(
      `Option "datagramSize" is below minDatagramSize, got "${resolved.datagramSize}"`,
    );
  }
  return resolved;
}

/** Tunables of the UDP endpoint (endpoint.ts): handshake, cache, load. */
export interface UdpEndpointTuning {
  /**
   * The initiator first resends its current handshake flight after this
   * long (ms); each later wait is twice the one before, up to 4 s
   * (HANDSHAKE_RETRANSMIT_CAP_MS in connection_machine.ts).
   */
  handshakeRetransmit: number;
  /**
   * Flights sent before connect() gives up, one wait after the last. The
   * handshake deadline is the sum of the waits, 1+2+4+4+4 = 15 s by default
   * (handshakeDeadline()); half-open answers expire after it, and a cached
   * secret whose peer does not ack a new connection within it is dropped.
   */
  handshakeAttempts: number;
  /** A per-peer secret with no authentic traffic for this long is dropped (ms). */
  idleTimeout: number;
  /** Half-open handshakes at which initiations must carry a cookie (mac2). */
  loadHalfOpen: number;
  /** Initiations per second beyond which cookies are demanded. */
  loadRate: number;
  /** Half-open handshakes beyond which initiations are dropped outright. */
  maxHalfOpen: number;
  /**
   * Under load (when initiations must carry a cookie, which proves the
   * source address), half-opens one address may hold; more are dropped, so
   * one address cannot fill `maxHalfOpen` and lock everyone else out.
   */
  maxHalfOpenPerAddress: number;
  /** Demand cookies regardless of load (tests, operators under attack). */
  forceCookies: boolean;
  /** Data-plane options for every channel. */
  data: Partial<UdpDataOptions>;
}

export const DEFAULT_ENDPOINT_TUNING: Readonly<UdpEndpointTuning> = Object
  .freeze({
    handshakeRetransmit: 1_000,
    handshakeAttempts: 5,
    idleTimeout: 15 * 60 * 1000,
    loadHalfOpen: 64,
    loadRate: 1_000,
    maxHalfOpen: 1_024,
    maxHalfOpenPerAddress: 16,
    forceCookies: false,
    data: {},
  });

export function resolveEndpointTuning(
  options: Partial<UdpEndpointTuning> = {},
): UdpEndpointTuning {
  const resolved = { ...DEFAULT_ENDPOINT_TUNING, ...options };
  for (const [key, value] of Object.entries(resolved)) {
    if (key === "data" || key === "forceCookies") continue;
    if (typeof value !== "number" || !(value > 0)) {
      throw new RangeError(`Option "${key}" must be positive, got "${value}"`);
    }
  }
  resolveDataOptions(resolved.data);
  return resolved;
}
