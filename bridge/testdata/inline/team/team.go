// Package team uses the bridge names that carry a //go:fix inline
// directive; the golden file is what the inliner makes of it.
package team

import (
	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

// Scope is a legacy helper that still takes the legacy context.
func Scope(uc bridge.UserExecutionContext) facade.Scope {
	return uc.Scope()
}

// Welcome builds a legacy message.
func Welcome(name string) bridge.Message {
	return bridge.Message{"type": "welcome", "name": name}
}
