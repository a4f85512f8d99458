package facade

// Target says who receives an event. Targets are comparable values; the zero
// Target is invalid and Notify refuses it.
type Target struct {
	kind targetKind
	id   string
}

type targetKind uint8

const (
	targetUser targetKind = iota + 1
	targetThread
	targetConn
	targetAll
)

// ToUser addresses every connection of the user. While the user has no live
// authenticated connection, events are held for it.
func ToUser(id string) Target { return Target{targetUser, id} }

// ToThread addresses every connection that joined the thread with
// [Conn.JoinThread]. While none has, events are held for the thread.
func ToThread(id string) Target { return Target{targetThread, id} }

// ToConn addresses one connection by its ID. An unknown ID is an error.
func ToConn(id string) Target { return Target{targetConn, id} }

// ToAll addresses every live connection of the hub.
func ToAll() Target { return Target{kind: targetAll} }

// ID returns the user, thread or connection ID ("" for ToAll).
func (t Target) ID() string { return t.id }

// String returns a readable form such as "user:u1".
func (t Target) String() string {
	switch t.kind {
	case targetUser:
		return "user:" + t.id
	case targetThread:
		return "thread:" + t.id
	case targetConn:
		return "conn:" + t.id
	case targetAll:
		return "all"
	}
	return "invalid"
}

// Valid reports whether Notify accepts t as a target: ToAll, or ToUser,
// ToThread or ToConn with a non-empty ID.
func (t Target) Valid() bool { return t.valid() }

func (t Target) valid() bool {
	if t.kind == targetAll {
		return true
	}
	return t.kind >= targetUser && t.kind <= targetConn && t.id != ""
}
