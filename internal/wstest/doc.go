// Package wstest is the WebSocket test support of this module: a client
// that checks every byte a server sends against RFC 6455, and a facade hub
// behind a real HTTP server on loopback.
//
// # The strict client
//
// [Dial] opens a connection with its own handshake on a raw net.Conn and
// checks the 101 response (Upgrade, Connection, Sec-WebSocket-Accept, the
// subprotocol, no extension). From then on a [Parser] reads every byte the
// server sends and stops at the first byte that breaks the protocol, with a
// [*Violation] that gives the byte's offset in the server's stream, the
// rule and a hex dump around it. It checks, for every frame:
//
//   - the opcode is one RFC 6455 defines; RSV1–3 are 0 (no extension is
//     negotiated); a server frame is not masked;
//   - the payload length is minimally encoded (7, 16 or 64 bits);
//   - a control frame has FIN set and at most 125 bytes of payload;
//   - a continuation frame continues a message, a text or binary frame does
//     not start inside one, and no control frame goes between the fragments
//     of a message (stricter than RFC 6455 §5.4, which allows it: the
//     facade writes a message as one unit; [ParserOptions] relaxes it);
//   - a text message is valid UTF-8, across fragments;
//   - a close frame has no payload or a valid code (1000–1003, 1007–1014,
//     3000–4999) and a UTF-8 reason, and no byte follows it.
//
// The client answers pings with pongs, as browsers do, and can send masked
// frames of its own ([Client.WritePing], [Client.WriteText],
// [Client.WriteClose], [Client.WriteFrame]). It reads the socket on one
// goroutine it owns; [Client.Pause], [Client.Resume] and
// [Options.ReadRate] slow that reader down, so that a test can fill the
// server's send buffer while it floods pings. Every blocking method takes a
// context.
//
// # The hub server
//
// [NewServer] puts a [facade.Hub] behind an httptest server. The request's
// query decides what its handler does with a connection ([Query]): its ID,
// event IDs, and, given a user, authentication, threads and readiness.
// Tests take the server side of each connection with [Server.NextConn], or
// dial with [Server.Gorilla] (a gorilla/websocket client) or
// [Server.Strict] (the strict client).
//
// The package imports facade, so facade's own in-package tests cannot use
// it; its external tests (package facade_test) can, and so can bridge's
// and facade/redisbroker's. It lives in the module's internal/, not in
// facade/internal/, because Go lets only packages under facade/ import
// the latter, and bridge is not one.
package wstest
