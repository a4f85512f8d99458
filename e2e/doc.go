// Package e2e is the end-to-end test of MIGRATION.md. It has no API: its
// test walks every step of the guide over a copy of the bundled legacy
// service, testdata/chatapp, with the real wsunify command.
//
// # What the walk checks
//
// The copy lives in a temporary directory, its replace directive pointed at
// this repository. Each step runs the guide's commands with sh, exactly as
// written there (wsunify is built once from ./cmd/wsunify and put first on
// PATH), checks their exit status and output, and then checks that the
// service still builds, vets and passes its tests. At five points (the
// legacy service, after the swap, rolled back with -bridge=false, after the
// rewrite, at the end) it builds and runs the service's binary and drives
// it with a real gorilla/websocket client:
//
//   - the bytes the client receives in a chat session are the same at every
//     point, once timestamps, durations and connection IDs are normalised;
//   - the messages of a run (the acknowledgement and the agent's events)
//     sent to a user who connects while it is under way are lost before
//     the swap (and after a rollback) and all delivered after it;
//   - the deprecation warnings of the bridge appear after the swap and are
//     gone at the end, when wsunify check exits 0 and no Go file of the
//     service imports package bridge any more.
//
// A command whose exit status or output is not what the guide says stops
// the walk with the command, its output, what was expected and, where one
// is known, the likely cause. The hand edits are diffs against what the
// codemod writes, so the walk checks that output first (the files the
// retype writes, the findings it leaves, which are the ones the guide's
// hand edit answers): a change in the codemod fails the step that shows
// it, not a later git apply.
//
// TestPusherRecipe walks the guide's section "Your own interfaces: write a
// recipe" the same way over a copy of testdata/pusherapp, whose notifier is
// its own push.Pusher: its commands run with -recipe wsunify.recipe.go, and
// the bytes two real clients receive from pushd, over the service's own
// connections and over a facade.Hub (-hub), are the same before and after.
//
// TestGuideCommands keeps the guide and the walks in step: every command in
// a sh block of MIGRATION.md is one a walk runs, and the other way round.
//
// # In a browser
//
// TestBrowser opens the service's chat page (served at /, plain HTML and
// JavaScript embedded in the binary) in headless Chromium, driven through
// chromedp, while bob's agent run is under way: over the bridge (the
// service after step 2a) the page shows every message of the run once, in
// the order a client connected all along receives them; the test checks
// that the page's socket opened after the agent's first events and before
// the run's end, and saves a screenshot. The same scenario over the legacy
// manager is logged as a contrast: the page misses the messages sent
// before its socket was set up.
//
// # Running it
//
//	go test ./e2e
//
// It needs the go command, sh, git (git apply applies the guide's hand
// edits to the bundled service), grep and sed, and takes one to two minutes
// on two cores, most of it go build, go vet and go test of the service,
// which share the build cache with the rest of the repository. TestBrowser
// needs Debian's chromium (apt-get install chromium) and fails without it.
package e2e
