/**
 * Round-trip time estimation and retransmission timeout, RFC 6298 section 2
 * (SRTT, RTTVAR, RTO = SRTT + max(G, 4 * RTTVAR), doubled on each timeout).
 *
 * Deliberate deviations, each because this netlayer runs over loopback and
 * LANs as often as over the Internet:
 * - the RTO floor is `minRto` (default 10 ms), not the RFC's 1 second;
 * - the initial RTO is `initialRto` (default 200 ms), not 1 second;
 * - the peer's reported ack delay is subtracted from a sample when the
 *   sample stays positive (as QUIC does, RFC 9002 section 5.3), because acks
 *   are grouped and held until the receiver's input drains;
 * - the RTO adds the peer's `maxAckDelay`, for the same reason (QUIC's PTO,
 *   RFC 9002 section 6.2.1), so a held ack is not taken for a loss.
 */

export interface RttOptions {
  initialRto: number;
  minRto: number;
  maxRto: number;
  /** Longest the peer holds an ack (ms), added to the RTO. */
  maxAckDelay?: number;
  /** Clock granularity G in ms. */
  granularity?: number;
}

export class RttEstimator {
  #srtt = 0;
  #rttvar = 0;
  #rto: number;
  #backoff = 1;
  #samples = 0;
  #options: RttOptions;

  constructor(options: RttOptions) {
    this.#options = options;
    this.#rto = options.initialRto;
  }

  /** Smoothed RTT in ms; the initial RTO before the first sample. */
  get srtt(): number {
    return this.#samples === 0 ? this.#options.initialRto : this.#srtt;
  }

  get rttvar(): number {
    return this.#rttvar;
  }

  get samples(): number {
    return this.#samples;
  }

  /** The current timeout, including the exponential backoff. */
  get rto(): number {
    return Math.min(this.#options.maxRto, this.#rto * this.#backoff);
  }

  /** One measurement: `rtt` ms from send to ack, `ackDelay` ms held. */
  sample(rtt: number, ackDelay = 0): void {
    if (!(rtt >= 0)) return;
    const r = rtt - ackDelay > 0 ? rtt - ackDelay : rtt;
    if (this.#samples === 0) {
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    this.#samples++;
    const g = this.#options.granularity ?? 1;
    const held = this.#options.maxAckDelay ?? 0;
    this.#rto = Math.min(
      this.#options.maxRto,
      Math.max(
        this.#options.minRto,
        this.#srtt + Math.max(g, 4 * this.#rttvar) + held,
      ),
    );
    this.#backoff = 1;
  }

  /** RFC 6298 (5.5): the timer expired; double the timeout. */
  backOff(): void {
    if (this.rto < this.#options.maxRto) this.#backoff *= 2;
  }

  /** New data was acknowledged without a fresh sample; keep the RTO. */
  resetBackoff(): void {
    this.#backoff = 1;
  }
}
