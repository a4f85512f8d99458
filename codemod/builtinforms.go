package codemod

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"strconv"
	"strings"
	"sync"
)

// builtinAfter holds the migrated forms of the built-in recipe's call
// rules until the engine reads them from package recipe.
const builtinAfter = `package builtin

import (
	"context"
	"time"

	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

func sendToUserAfter(m bridge.WebSocketManager, ctx context.Context, userID string, msg bridge.Message) error {
	return bridge.NotifierOf(m).Notify(ctx, facade.ToUser(userID), facade.Raw(msg))
}

func sendToThreadAfter(m bridge.WebSocketManager, ctx context.Context, threadID string, msg bridge.Message) error {
	return bridge.NotifierOf(m).Notify(ctx, facade.ToThread(threadID), facade.Raw(msg))
}

func broadcastAfter(m bridge.WebSocketManager, ctx context.Context, msg bridge.Message) error {
	return bridge.NotifierOf(m).Notify(ctx, facade.ToAll(), facade.Raw(msg))
}

func emitCriticalEventAfter(m bridge.WebSocketManager, ctx context.Context, userID, eventType string, data bridge.Message) error {
	return bridge.NotifierOf(m).Notify(ctx, facade.ToUser(userID), facade.Critical(eventType, data))
}

func isConnectionActiveAfter(h *facade.Hub, userID string) bool {
	return h.Connected(userID)
}

func getUserConnectionsAfter(h *facade.Hub, userID string) []string {
	return h.ConnIDs(userID)
}

func agentStartedAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, data bridge.Message) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.AgentStarted, RunID: runID, Agent: agent, Data: data})
}

func agentThinkingAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent, reasoning string, step int) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.AgentThinking, RunID: runID, Agent: agent, Data: facade.Thought{Reasoning: reasoning, Step: step}})
}

func toolExecutingAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, tool, agent string, data bridge.Message) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.ToolExecuting, RunID: runID, Tool: tool, Agent: agent, Data: data})
}

func toolCompletedAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, tool, agent string, result any, elapsed time.Duration) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.ToolCompleted, RunID: runID, Tool: tool, Agent: agent, Data: facade.Outcome{Result: result, Elapsed: elapsed}})
}

func agentCompletedAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, result any, elapsed time.Duration) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.AgentCompleted, RunID: runID, Agent: agent, Data: facade.Outcome{Result: result, Elapsed: elapsed}})
}

func agentErrorAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, data error) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.AgentError, RunID: runID, Agent: agent, Data: data})
}

func progressUpdateAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, data bridge.Message) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.ProgressUpdate, RunID: runID, Agent: agent, Data: data})
}

func customAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent, name string, data bridge.Message) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.Custom, RunID: runID, Agent: agent, Name: name, Data: data})
}
`

// builtinForms are the forms of builtinAfter by rule ID.
var builtinForms = sync.OnceValue(func() map[string]*form {
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, "builtin.go", builtinAfter, parser.SkipObjectResolution)
	if err != nil {
		panic(err)
	}
	imports := map[string]pkgRef{}
	for _, spec := range af.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		imports[path.Base(p)] = pkgRef{path: p, name: path.Base(p)}
	}
	out := map[string]*form{}
	for _, d := range af.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		var params []string
		for _, fl := range fd.Type.Params.List {
			for _, n := range fl.Names {
				params = append(params, n.Name)
			}
		}
		index := map[string]int{}
		for i, n := range params {
			index[n] = i
		}
		expr := fd.Body.List[0].(*ast.ReturnStmt).Results[0]
		f := newForm(fset, []byte(builtinAfter), expr, params,
			func(id *ast.Ident) (int, bool) { i, ok := index[id.Name]; return i, ok },
			func(id *ast.Ident) (pkgRef, bool) { p, ok := imports[id.Name]; return p, ok })
		out[ruleIDOf(strings.TrimSuffix(fd.Name.Name, "After"))] = f
	}
	return out
})

// ruleIDOf turns sendToUser into send-to-user.
func ruleIDOf(name string) string {
	var b strings.Builder
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// form is the migrated form of r.
func (r *Rule) form() *form { return builtinForms()[r.ID] }
