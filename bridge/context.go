package bridge

import (
	"context"
	"fmt"

	"github.com/wsunify/wsunify/facade"
)

// UserExecutionContext identifies one run of one user in one thread, the
// unit an [AgentWebSocketBridge] reports on.
//
// Deprecated: use facade.Scope, made by facade.NewScope.
type UserExecutionContext struct {
	UserID, ThreadID, RunID string

	// RequestID is the request that started the run, when known. It is
	// carried, never sent.
	RequestID string

	// Notifier is the Notifier that events of the run go through, when
	// the context carries one; [NotifierOf] returns it.
	// [NewAgentWebSocketBridge] uses its own argument, as its migrated
	// form facade.NewEmitter does.
	Notifier facade.Notifier
}

// Scope returns the facade.Scope of uc.
//
// Deprecated: use a facade.Scope in place of uc.
//
//go:fix inline
func (uc UserExecutionContext) Scope() facade.Scope {
	return facade.Scope{UserID: uc.UserID, ThreadID: uc.ThreadID, RunID: uc.RunID}
}

// ContextOption sets an optional field of a [UserExecutionContext].
//
// Deprecated: use facade.Scope, which has no optional fields.
type ContextOption func(*UserExecutionContext)

// WithRequestID sets the context's RequestID.
//
// Deprecated: use facade.Scope; carry the request ID beside it.
func WithRequestID(id string) ContextOption {
	return func(uc *UserExecutionContext) { uc.RequestID = id }
}

// WithNotifier sets the context's Notifier.
//
// Deprecated: use facade.NewEmitter(n, scope).
func WithNotifier(n facade.Notifier) ContextOption {
	return func(uc *UserExecutionContext) { uc.Notifier = n }
}

// NewUserExecutionContext returns the context of one run. It refuses empty
// and placeholder IDs ("None", "undefined", "registry", ...) exactly as
// facade.NewScope does; the error wraps facade.ErrInvalidScope. Optional
// fields arrive as options, so the legacy three-argument call compiles.
//
// Deprecated: use facade.NewScope(userID, threadID, runID).
func NewUserExecutionContext(userID, threadID, runID string, opts ...ContextOption) (UserExecutionContext, error) {
	warn(context.Background(), newUserExecutionContext)
	s, err := facade.NewScope(userID, threadID, runID)
	if err != nil {
		return UserExecutionContext{}, fmt.Errorf("bridge: user execution context: %w", err)
	}
	uc := UserExecutionContext{UserID: s.UserID, ThreadID: s.ThreadID, RunID: s.RunID}
	for _, o := range opts {
		if o != nil {
			o(&uc)
		}
	}
	return uc, nil
}
