// A legacy call site for TestGoFixInline, which copies this module, points
// the replace directive at the repository and runs `go fix -inline` on it.
module example.com/team

go 1.26.0

require github.com/wsunify/wsunify v0.0.0

require github.com/gorilla/websocket v1.5.3 // indirect

replace github.com/wsunify/wsunify => ../../..
