package redisbroker

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/wsunify/wsunify/facade"
)

// An event travels between instances as one string, built once by the
// publisher: the time it was notified (8 bytes, Unix nanoseconds, big
// endian), the legacy prefix and the numeric prefix (each a uvarint length
// and the bytes), then the body. The stream entry holds it as its one field;
// the pub/sub payload is the stream ID, a space, and the same string.

// encodeEvent returns the shipped form of ev.
func encodeEvent(ev facade.Encoded) string {
	legacy, numeric, body := ev.Legacy(), ev.Numeric(), ev.Body()
	b := make([]byte, 0, 8+2*binary.MaxVarintLen32+len(legacy)+len(numeric)+len(body))
	b = binary.BigEndian.AppendUint64(b, uint64(ev.At().UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(legacy)))
	b = append(b, legacy...)
	b = binary.AppendUvarint(b, uint64(len(numeric)))
	b = append(b, numeric...)
	b = append(b, body...)
	return string(b)
}

var errMalformed = errors.New("redisbroker: malformed event")

// decodeEvent rebuilds an event shipped by encodeEvent, with its ID.
func decodeEvent(id, s string) (facade.Encoded, error) {
	if len(s) < 8 {
		return facade.Encoded{}, errMalformed
	}
	at := time.Unix(0, int64(binary.BigEndian.Uint64([]byte(s[:8]))))
	s = s[8:]
	legacy, s, ok := cut(s)
	if !ok {
		return facade.Encoded{}, errMalformed
	}
	numeric, s, ok := cut(s)
	if !ok {
		return facade.Encoded{}, errMalformed
	}
	// The prefixes are cloned so that a queued event does not pin the
	// whole payload string next to its body's copy.
	return facade.NewEncoded(id, at, strings.Clone(legacy), strings.Clone(numeric), []byte(s)), nil
}

// cut splits a uvarint-length-prefixed string off the front of s.
func cut(s string) (part, rest string, ok bool) {
	n, k := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
	if k <= 0 || n > uint64(len(s)-k) {
		return "", "", false
	}
	return s[k : k+int(n)], s[k+int(n):], true
}

// splitPayload splits a pub/sub payload into the stream ID ("" for events
// that have none) and the shipped event.
func splitPayload(p string) (id, event string, ok bool) {
	return strings.Cut(p, " ")
}

// streamID is a Redis stream entry ID, "<ms>-<seq>", in comparable form.
type streamID struct{ ms, seq uint64 }

// parseID parses a full stream ID.
func parseID(s string) (streamID, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return streamID{}, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return streamID{ms, seq}, err1 == nil && err2 == nil
}

func (a streamID) less(b streamID) bool {
	return a.ms < b.ms || a.ms == b.ms && a.seq < b.seq
}

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}
