/**
 * Syrup, the OCapN wire encoding (ocapn/syrup draft): the value model, a
 * canonical encoder, a strict decoder and a streaming decoder for framed
 * transports. Knows nothing of CapTP.
 */

export * from "./value.ts";
export { encode } from "./encode.ts";
export {
  decode,
  decodeAt,
  type DecodeOptions,
  type DecodeResult,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_INTEGER_DIGITS,
  DEFAULT_MAX_LENGTH,
} from "./decode.ts";
export {
  encodeFrame,
  frameEncoded,
  type Framing,
  type PushResult,
  type StreamDecoderOptions,
  SyrupStreamDecoder,
} from "./stream.ts";
