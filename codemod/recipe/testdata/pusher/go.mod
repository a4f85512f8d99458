module example.com/pusher

go 1.26.0

require github.com/wsunify/wsunify v0.0.0

require github.com/gorilla/websocket v1.5.3 // indirect

replace github.com/wsunify/wsunify => ../../../..
