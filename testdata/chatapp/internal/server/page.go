package server

import (
	_ "embed"
	"net/http"
)

// page is the chat page: it connects to /ws with the token and thread of
// its own URL (/?token=…&thread_id=…) and lists every message it receives,
// in order. Plain HTML and JavaScript, no build step.
//
//go:embed page.html
var page []byte

// servePage serves the chat page at /.
func servePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(page)
}
