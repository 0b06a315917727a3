/**
 * Netlayers: transports that carry CapTP messages between peers (CapTP
 * draft, "Netlayers"). The contract is in types.ts; base.ts does framing
 * and decoding for every transport.
 */

export type {
  Connection,
  ConnectionEvents,
  FramingOptions,
  Netlayer,
  OCapNPeer,
} from "./types.ts";
export { FramedConnection, type Framing } from "./base.ts";
export {
  ConnectFailedError,
  ConnectionClosedError,
  NetlayerError,
} from "./errors.ts";
export { type ByteDuplex, StreamConnection } from "./stream_connection.ts";
export {
  MEMORY_TRANSPORT,
  MemoryNetlayer,
  MemoryNetwork,
  type MemoryNetworkOptions,
  type TranscriptEntry,
} from "./memory.ts";
export {
  TCP_TESTING_TRANSPORT,
  TcpTestingNetlayer,
  type TcpTestingOptions,
} from "./tcp_testing.ts";
export {
  NOISE_TCP_TRANSPORT,
  NoiseConnection,
  NoiseTcpNetlayer,
  type NoiseTcpOptions,
} from "./noise_tcp.ts";
export {
  NOISE_UDP_TRANSPORT,
  NoiseUdpNetlayer,
  type NoiseUdpOptions,
  UdpConnection,
} from "./noise_udp.ts";
export {
  PeerAuthError,
  WEBSOCKET_TRANSPORT,
  WebSocketNetlayer,
  type WebSocketNetlayerOptions,
} from "./websocket.ts";
export { dialWebSocket } from "./websocket_client.ts";
