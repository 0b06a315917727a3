/**
 * The gifter's and the receiver's halves of third-party handoffs (CapTP
 * draft, "Third-party handoffs"; shared/ocapn-notes.md "Third-party
 * handoffs", steps 1-3). The exporter's half is gifts.ts.
 *
 * Why it exists: a reference must reach a vat as a direct connection to its
 * exporter, never as a proxy through the vat that passed it. The engine
 * calls this through two seams: `encodeForeign` when it is asked to pass a
 * presence of another session (we are the gifter: deposit the gift with
 * the exporter, send a signed give), and `decodeForeign` when a signed give
 * arrives (we are the receiver: return a promise at once, connect to the
 * exporter, withdraw, resolve to the direct reference).
 *
 * The receiver's one check (CapTP draft, desc:handoff-give, "Validating the
 * record"): the give's receiver-key must be our own key in the session the
 * give came on. A give naming anyone else breaks its promise at once, before
 * any registry entry, connection or withdraw-gift: travelling to the
 * exporter would only make it refuse the receive's signature there.
 */

import type { CryptoProvider } from "../crypto.ts";
import { MachineDriver } from "../machine_driver.ts";
import type { Registry } from "../registry.ts";
import { SyrupRecord, type SyrupValue } from "../syrup/value.ts";
import { peerFromSyrup } from "../locator.ts";
import type { CapTPHost } from "./host.ts";
import type { CapTPSession } from "./session.ts";
import type { HandoffSeam, SessionDirectory } from "./directory.ts";
import { HandoffError } from "./errors.ts";
import {
  envelopeOf,
  makeGive,
  makeReceive,
  readSignedGive,
  SignedCertificate,
  signEnvelope,
} from "./handoff.ts";
import { receiveMachine } from "./handoff_receive_machine.ts";
import { compareBytes, publicId } from "./keys.ts";

export interface HandoffRolesOptions {
  directory: SessionDirectory;
  host: CapTPHost;
  registry: Registry;
  /** Hashes the give's receiver-key into a public ID to compare with ours. */
  crypto: CryptoProvider;
  randomBytes(n: number): Uint8Array;
  /** How long a receiver waits for the whole handoff (default 60 s). */
  handoffMs?: number;
}

const noop = () => {};

export class HandoffRoles implements HandoffSeam {
  #o: HandoffRolesOptions;
  /** The next handoff-count per receiver-exporter session (chosen by us). */
  #counts = new WeakMap<CapTPSession, bigint>();

  constructor(options: HandoffRolesOptions) {
    this.#o = options;
  }

  encodeForeign(session: CapTPSession, value: object): SyrupValue | undefined {
    if (value instanceof SignedCertificate) return value.envelope;
    for (const exporter of this.#o.directory.sessions()) {
      if (exporter === session) continue;
      if (exporter.descriptorOf(value) !== undefined) {
        return this.#give(session, exporter, value);
      }
    }
    return undefined;
  }

  decodeForeign(session: CapTPSession, record: SyrupRecord): unknown {
    switch (envelopeOf(record)) {
      case "desc:handoff-receive":
        return new SignedCertificate(record);
      case "desc:handoff-give":
        return this.#receive(session, record);
    }
    return undefined;
  }

  /**
   * Gifter: deposit `value` with its exporter (in our session with it),
   * then a give for the receiver, signed with our key of that session. The
   * deposit is written first, so it travels ahead of anything the receiver
   * can do with the give.
   */
  #give(receiver: CapTPSession, exporter: CapTPSession, value: object) {
    if (receiver.peerPublicKey === undefined || exporter.id === undefined) {
      return undefined;
    }
    const giftId = this.#o.randomBytes(16);
    exporter.sendBootstrap("deposit-gift", [giftId, value]);
    const give = makeGive({
      receiverKey: receiver.peerPublicKey,
      exporterLocation: exporter.peerLocation!,
      session: exporter.id,
      gifterSide: exporter.localSideId,
      giftId,
    });
    return signEnvelope(give, (bytes) => exporter.sign(bytes));
  }

  /**
   * Receiver: a promise now; the give is forwarded unverified (its signer
   * is the gifter's key in a session we never saw: the exporter checks it).
   */
  #receive(from: CapTPSession, signedGive: SyrupRecord): Promise<unknown> {
    const { host, registry, directory } = this.#o;
    const kit = host.makeRemotePromise({
      // Pipelined messages wait for the direct reference, then go in order.
      applyMethod: (_t, method, args) =>
        kit.promise.then((ref) =>
          host.deliver(
            ref,
            method === undefined ? args : [Symbol.for(method), ...args],
          )
        ),
      sendOnly: (_t, method, args) => {
        kit.promise.then((ref) =>
          host.deliverOnly(
            ref,
            method === undefined ? args : [Symbol.for(method), ...args],
          )
        ).catch(noop);
      },
    });
    kit.promise.catch(noop);
    let give: ReturnType<typeof readSignedGive>;
    try {
      give = readSignedGive(signedGive);
      this.#checkReceiverKey(from, give.fields.receiverKey);
    } catch (error) {
      kit.reject(error);
      return kit.promise;
    }
    const code = registry.mint("captp.handoff", signedGive);
    const machine = receiveMachine.provide({
      actions: {
        connect: () => {
          let peer;
          try {
            peer = peerFromSyrup(give.fields.exporterLocation);
          } catch (error) {
            return void queueMicrotask(() =>
              actor.send({ type: "failed", error })
            );
          }
          directory.connect(peer).then(
            (session) => actor.send({ type: "connected", session }),
            (error) =>
              actor.send({
                type: "failed",
                error: new HandoffError(
                  "exporter-unreachable",
                  `cannot reach the exporter: ${
                    error instanceof Error ? error.message : String(error)
                  }`,
                ),
              }),
          );
        },
        withdraw: ({ context }) => {
          const exporter = context.session as CapTPSession;
          const count = this.#counts.get(exporter) ?? 0n;
          this.#counts.set(exporter, count + 1n);
          let signed: SyrupRecord;
          try {
            const receive = makeReceive({
              receivingSession: exporter.id!,
              receivingSide: exporter.localSideId,
              handoffCount: count,
              signedGive,
            });
            signed = signEnvelope(receive, (bytes) => from.sign(bytes));
          } catch (error) {
            return void queueMicrotask(() =>
              actor.send({ type: "failed", error })
            );
          }
          exporter.callBootstrap("withdraw-gift", [
            new SignedCertificate(signed),
          ]).then(
            (ref) => actor.send({ type: "withdrawn", ref }),
            (error) => actor.send({ type: "failed", error }),
          );
        },
        fulfil: ({ context }) => kit.resolve(context.ref),
        breakPromise: ({ context }) =>
          kit.reject(
            context.error === "handoff-deadline"
              ? new HandoffError(
                "exporter-unreachable",
                "the exporter did not hand out the gift in time",
              )
              : context.error,
          ),
        release: () => registry.release(code),
      },
    });
    const actor = new MachineDriver(
      machine,
      { handoffMs: this.#o.handoffMs ?? 60_000 },
      { clock: registry.timers("captp.handoff.deadline", code) },
    );
    return kit.promise;
  }

  /**
   * The give must name us: its receiver-key hashes to our public ID in the
   * gifter-receiver session (a session exposes its side ID, not its key).
   */
  #checkReceiverKey(from: CapTPSession, receiverKey: Uint8Array): void {
    const id = publicId(this.#o.crypto, receiverKey);
    if (compareBytes(id, from.localSideId) !== 0) {
      throw new HandoffError(
        "receiver-key-mismatch",
        "the give's receiver-key is not our key in the session it came on",
      );
    }
  }
}
