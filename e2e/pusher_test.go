package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pusherRecipe is the recipe of testdata/pusherapp, as MIGRATION.md's
// commands name it.
const pusherRecipe = "wsunify.recipe.go"

// pusherGuide is the section "Your own interfaces: write a recipe" of
// MIGRATION.md as TestPusherRecipe runs it, over a copy of
// testdata/pusherapp.
var pusherGuide = []step{{
	title:  "Your own interfaces: before",
	verify: true,
	after: func(t *testing.T, w *walk) {
		w.pushed = pushSession(t, w, "pusherapp, own connections")
		t.Logf("the session every later one must match:\n%s", strings.Join(w.pushed, "\n"))
		assert.Equal(t, w.pushed, pushSession(t, w, "pusherapp over the hub", "-hub"), "push.Over(hub) changed the bytes on the wire")
	},
}, {
	title: "Your own interfaces: write a recipe",
	cmds: []command{
		{line: "go vet " + pusherRecipe, readOnly: true},
		{line: "wsunify plan -recipe " + pusherRecipe + " ./...", readOnly: true, want: pusherPlan},
		{line: "wsunify diff -recipe " + pusherRecipe + " ./...", readOnly: true, want: pusherDiff},
		{line: "wsunify apply -recipe " + pusherRecipe + " ./...",
			want: `\Awrote digest/digest\.go\nwrote server/server\.go\n2 sites rewritten in 2 files; 0 findings left\n\z`},
		{line: "wsunify check -recipe " + pusherRecipe + " ./...", want: `(?m)^ok: no legacy uses$`, readOnly: true},
		{line: "wsunify apply -recipe " + pusherRecipe + " ./...", want: `(?m)^0 sites rewritten in 0 files`, readOnly: true},
		{line: "grep -rn --include='*.go' --exclude=" + pusherRecipe + " 'context.TODO()' .", readOnly: true,
			want: `\A\./server/server\.go:\d+:.*Notify\(context\.TODO\(\).*\n\./digest/digest\.go:\d+:.*Notify\(context\.TODO\(\).*\n\z|` +
				`\A\./digest/digest\.go:\d+:.*Notify\(context\.TODO\(\).*\n\./server/server\.go:\d+:.*Notify\(context\.TODO\(\).*\n\z`,
			note: "migration/context.patch threads a context into exactly these two call sites"},
		{line: "git apply migration/context.patch", note: "the patch is a diff against what the recipe's apply wrote; regenerate it if that changed"},
	},
	verify: true,
	after: func(t *testing.T, w *walk) {
		assert.Equal(t, w.pushed, pushSession(t, w, "migrated pusherapp, own connections"), "the recipe changed the bytes on the wire")
		assert.Equal(t, w.pushed, pushSession(t, w, "migrated pusherapp over the hub", "-hub"), "the recipe changed the bytes on the wire")
	},
}}

// pusherPlan is the plan of the legacy pusherapp: the two call sites of
// its callers, and nothing of package push, the recipe's legacy package,
// nor of the recipe file itself.
const pusherPlan = `\A2 legacy uses left\n\nper rule:\n  push +1\n  push-all +1\n\n` +
	`per package:\n  example\.com/pusherapp/digest: 1 \(push-all 1\)\n  example\.com/pusherapp/server: 1 \(push 1\)\n\n` +
	`next step \(call sites\): wsunify apply rewrites 2 sites in 2 files \(push 1, push-all 1\)\n\z`

// pusherDiff is what apply writes at those sites (MIGRATION.md shows it);
// migration/context.patch is a diff against it.
const pusherDiff = `(?m)^-\tj\.pusher\.PushAll\(payload\)\n` +
	`\+\tpush\.NotifierOf\(j\.pusher\)\.Notify\(context\.TODO\(\), facade\.ToAll\(\), facade\.Raw\(json\.RawMessage\(payload\)\)\)$` +
	`[\s\S]*^-\treturn p\.Push\(userID, payload\)\n` +
	`\+\treturn push\.NotifierOf\(p\)\.Notify\(context\.TODO\(\), facade\.ToUser\(userID\), facade\.Raw\(json\.RawMessage\(payload\)\)\)$`

// TestPusherRecipe walks the recipe section of MIGRATION.md over a copy of
// testdata/pusherapp: the service's own Pusher interface moves onto
// facade.Notifier with wsunify -recipe, and its clients receive the same
// bytes before and after.
func TestPusherRecipe(t *testing.T) {
	t.Parallel()
	w := newServiceWalk(t, "pusherapp")
	for _, s := range pusherGuide {
		w.step(t, s)
	}
}

// pushSession builds pushd, starts it with flags and records what two real
// clients receive: their hellos, notices, and the digests both receive,
// which count a notice for a user who was not connected. It returns every
// message as received, prefixed with its receiver, in order.
func pushSession(t *testing.T, w *walk, name string, flags ...string) []string {
	t.Helper()
	bin := filepath.Join(w.binDir, "pushd")
	out, err := w.exec(w.dir, "go", "build", "-o", bin, "./cmd/pushd")
	require.NoError(t, err, "%s: go build ./cmd/pushd:\n%s", name, out)
	svc := startProgram(t, w.ctx, bin, w.env, append([]string{"-addr", "127.0.0.1:0", "-setup-delay", "10ms"}, flags...)...)
	ctx, base := w.ctx, "http://"+svc.addr

	var transcript []string
	receive := func(who string, conn *websocket.Conn) {
		b, _ := readFrame(t, conn)
		transcript = append(transcript, who+": "+string(b))
	}
	notice := func(user, text string) {
		body, err := json.Marshal(map[string]string{"text": text})
		require.NoError(t, err)
		httpDo(t, ctx, http.MethodPost, base+"/users/"+user+"/notices", "", string(body), http.StatusAccepted)
	}
	digest := func() { httpDo(t, ctx, http.MethodPost, base+"/digest", "", "", http.StatusAccepted) }

	alice := dial(t, ctx, svc.addr, "token=tok-alice")
	receive("alice", alice) // hello
	notice("alice", "<b>shipped</b> & tracked")
	receive("alice", alice)
	bob := dial(t, ctx, svc.addr, "token=tok-bob")
	receive("bob", bob)
	notice("bob", "l\u00ednea\u2028s\u00e9par\u00e9e \U0001F680")
	receive("bob", bob)
	notice("carol", "carol is not connected")
	digest()
	receive("alice", alice)
	receive("bob", bob)
	notice("alice", "last")
	receive("alice", alice)

	stderr := svc.stop(t)
	t.Logf("%s: %d messages; pushd's log:\n%s", name, len(transcript), stderr)
	return transcript
}
