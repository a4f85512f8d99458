package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wsunify/wsunify/facade"
)

// ErrUnsupported reports an event or a target that a legacy implementation
// has no method for, or a value [NotifierOf] cannot send through.
var ErrUnsupported = errors.New("bridge: unsupported")

// NotifierOf returns the Notifier behind x, so that a call site can migrate
// before the declaration of x is retyped:
//
//   - a manager made by [NewWebSocketManager]: its *facade.Hub;
//   - a bridge made by [NewAgentWebSocketBridge]: its *facade.Emitter;
//   - a facade.Notifier: x itself;
//   - a [UserExecutionContext]: its Notifier field;
//   - any other [WebSocketManager] or [AgentWebSocketBridge]: an adapter
//     that routes each event back through the legacy methods, so a
//     half-migrated program behaves as before (see below);
//   - nil, a nil pointer or anything else: a Notifier whose Notify returns
//     an error (facade.ErrNilNotifier or [ErrUnsupported]).
//
// The adapter over a legacy manager sends a facade.Raw message with
// SendToUser, SendToThread or Broadcast as the target is ToUser, ToThread or
// ToAll, and a facade.Critical event to a user with EmitCriticalEvent; a
// payload that is not a map is converted to one through its JSON object.
// Other events are encoded in the legacy envelope and sent as a message.
//
// The adapter over a legacy agent bridge calls the Notify method of each
// typed event: NotifyAgentThinking for an AgentThinking event whose Data is
// a facade.Thought, NotifyToolCompleted and NotifyAgentCompleted for a
// facade.Outcome, NotifyAgentError for an error or a facade.Failure, and so
// on. A legacy bridge sends to the user of its own execution context, so
// the adapter takes any ToUser target and leaves its ID unchecked.
// AgentDeath, which the shape lacks, and Data of another type are
// [ErrUnsupported]. A value with both shapes gets typed events to users
// through the bridge and everything else through the manager.
func NotifierOf(x any) facade.Notifier {
	switch v := x.(type) {
	case *manager:
		if v.hub == nil {
			return errNotifier{facade.ErrNilNotifier}
		}
		return v.hub
	case *agentBridge:
		return v.e
	case UserExecutionContext:
		if isNil(v.Notifier) {
			return errNotifier{fmt.Errorf("bridge: UserExecutionContext without a Notifier: %w", facade.ErrNilNotifier)}
		}
		return v.Notifier
	}
	if isNil(x) {
		return errNotifier{facade.ErrNilNotifier}
	}
	if n, ok := x.(facade.Notifier); ok {
		return n
	}
	m, b := legacyShapes(x)
	if m == nil && b == nil {
		return errNotifier{fmt.Errorf("%w: %T is neither a facade.Notifier nor a legacy shape", ErrUnsupported, x)}
	}
	return &legacyNotifier{m: m, b: b}
}

// legacyShapes returns x as the legacy shapes it implements, whole or in
// part: a type with only some of a shape's methods (a team's own type
// mapped with `wsunify -shape`) is adapted method by method, and the
// methods it lacks return [ErrUnsupported].
func legacyShapes(x any) (WebSocketManager, AgentWebSocketBridge) {
	m, _ := x.(WebSocketManager)
	if m == nil && hasAny(x, true) {
		m = partialManager{x}
	}
	b, _ := x.(AgentWebSocketBridge)
	if b == nil && hasAny(x, false) {
		b = partialBridge{x}
	}
	return m, b
}

// EmitterOf returns the Emitter behind x: the one of a bridge made by
// [NewAgentWebSocketBridge], x itself for a *facade.Emitter, x.Emitter() for
// a value that has its own Emitter (a *facadetest.Recorder, put where a
// test had a legacy agent double), and otherwise an Emitter with an empty
// scope over [NotifierOf](x). It never returns nil.
func EmitterOf(x any) *facade.Emitter {
	switch v := x.(type) {
	case *agentBridge:
		return v.e
	case *facade.Emitter:
		if v != nil {
			return v
		}
	case emitterHolder:
		if !isNil(v) {
			if e := v.Emitter(); e != nil {
				return e
			}
		}
	}
	return facade.NewEmitter(NotifierOf(x), facade.Scope{})
}

// emitterHolder is a value with an Emitter of its own.
type emitterHolder interface{ Emitter() *facade.Emitter }

// errNotifier is a Notifier that only fails.
type errNotifier struct{ err error }

func (n errNotifier) Notify(context.Context, facade.Target, facade.Event) error { return n.err }

// legacyNotifier routes Notify back through a team's own legacy
// implementation; m or b may be nil.
type legacyNotifier struct {
	m WebSocketManager
	b AgentWebSocketBridge
}

// Notify implements facade.Notifier.
func (a *legacyNotifier) Notify(ctx context.Context, to facade.Target, ev facade.Event) error {
	_, raw := ev.RawPayload()
	_, _, critical := ev.CriticalPayload()
	typed := !raw && !critical
	switch {
	case a.b != nil && typed && isUser(to):
		return a.dispatch(ctx, ev)
	case a.m != nil:
		return a.viaManager(ctx, to, ev)
	case typed:
		return fmt.Errorf("%w: %v target: a legacy agent bridge sends only to its user", ErrUnsupported, to)
	}
	return fmt.Errorf("%w: raw and critical messages: a legacy agent bridge sends only agent events", ErrUnsupported)
}

func isUser(to facade.Target) bool { return to == facade.ToUser(to.ID()) }

// viaManager sends ev with the legacy manager's methods.
func (a *legacyNotifier) viaManager(ctx context.Context, to facade.Target, ev facade.Event) error {
	if payload, ok := ev.RawPayload(); ok {
		msg, err := toMessage(payload)
		if err != nil {
			return err
		}
		return a.send(ctx, to, msg)
	}
	if typ, data, ok := ev.CriticalPayload(); ok && isUser(to) {
		d, isMap := data.(map[string]any)
		if !isMap && data != nil {
			d = Message{"data": data} // where facade.Critical puts data that is not a map
		}
		return a.m.EmitCriticalEvent(ctx, to.ID(), typ, d)
	}
	b, err := facade.EncodeEvent(ev, facade.EncodingLegacy, time.Now())
	if err != nil {
		return err
	}
	msg, err := decodeObject(b)
	if err != nil {
		return err
	}
	return a.send(ctx, to, msg)
}

// send sends msg with the legacy manager method of to's kind.
func (a *legacyNotifier) send(ctx context.Context, to facade.Target, msg Message) error {
	switch id := to.ID(); to {
	case facade.ToUser(id):
		return a.m.SendToUser(ctx, id, msg)
	case facade.ToThread(id):
		return a.m.SendToThread(ctx, id, msg)
	case facade.ToAll():
		return a.m.Broadcast(ctx, msg)
	}
	return fmt.Errorf("%w: %v target: a legacy manager sends to users, threads and all", ErrUnsupported, to)
}

// dispatch calls the legacy agent bridge method of ev's type.
func (a *legacyNotifier) dispatch(ctx context.Context, ev facade.Event) error {
	switch ev.Type {
	case facade.AgentStarted, facade.ToolExecuting, facade.ProgressUpdate, facade.Custom:
		msg, err := toMessage(ev.Data)
		if err != nil {
			return err
		}
		switch ev.Type {
		case facade.AgentStarted:
			return a.b.NotifyAgentStarted(ctx, ev.RunID, ev.Agent, msg)
		case facade.ToolExecuting:
			return a.b.NotifyToolExecuting(ctx, ev.RunID, ev.Tool, ev.Agent, msg)
		case facade.ProgressUpdate:
			return a.b.NotifyProgressUpdate(ctx, ev.RunID, ev.Agent, msg)
		}
		return a.b.NotifyCustom(ctx, ev.RunID, ev.Agent, ev.Name, msg)
	case facade.AgentThinking:
		if t, ok := ev.Data.(facade.Thought); ok {
			return a.b.NotifyAgentThinking(ctx, ev.RunID, ev.Agent, t.Reasoning, t.Step)
		}
	case facade.ToolCompleted:
		if o, ok := ev.Data.(facade.Outcome); ok {
			return a.b.NotifyToolCompleted(ctx, ev.RunID, ev.Tool, ev.Agent, o.Result, o.Elapsed)
		}
	case facade.AgentCompleted:
		if o, ok := ev.Data.(facade.Outcome); ok {
			return a.b.NotifyAgentCompleted(ctx, ev.RunID, ev.Agent, o.Result, o.Elapsed)
		}
	case facade.AgentError:
		switch d := ev.Data.(type) {
		case nil:
			return a.b.NotifyAgentError(ctx, ev.RunID, ev.Agent, nil)
		case error:
			return a.b.NotifyAgentError(ctx, ev.RunID, ev.Agent, d)
		case facade.Failure:
			return a.b.NotifyAgentError(ctx, ev.RunID, ev.Agent, d.Err)
		}
	default:
		return fmt.Errorf("%w: %v event: a legacy agent bridge has no method for it", ErrUnsupported, ev.Type)
	}
	return fmt.Errorf("%w: %v event with Data of type %T", ErrUnsupported, ev.Type, ev.Data)
}

// toMessage returns v as a legacy Message: a map as it is, nil as nil, and
// any other value through its JSON encoding, which must be an object.
func toMessage(v any) (Message, error) {
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("bridge: encode %T: %w", v, err)
	}
	return decodeObject(b)
}

// decodeObject decodes a JSON object, keeping numbers as json.Number so
// that they encode again as they were.
func decodeObject(b []byte) (Message, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var msg Message
	if err := dec.Decode(&msg); err != nil || msg == nil {
		return nil, fmt.Errorf("%w: a legacy shape sends JSON objects, not %.40s", ErrUnsupported, b)
	}
	return msg, nil
}
