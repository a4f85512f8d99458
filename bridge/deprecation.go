package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// EnvDeprecation is the environment variable that selects the
// [DeprecationMode]: "once", "every", "off" or "panic". It is read at the
// first call of a deprecated entry point; [SetDeprecationMode] overrides it.
const EnvDeprecation = "WSUNIFY_DEPRECATION"

// DeprecationMode says what a deprecated entry point does when it is called.
// The zero value means "not chosen yet"; the mode in force is then read from
// [EnvDeprecation].
type DeprecationMode int32

// The deprecation modes.
const (
	// DeprecationOnce logs the first call from each call site (the
	// default). A call site is the caller's file:line and the entry point
	// it calls.
	DeprecationOnce DeprecationMode = iota + 1
	// DeprecationEvery logs every call.
	DeprecationEvery
	// DeprecationOff neither logs nor counts: the cheapest mode.
	DeprecationOff
	// DeprecationPanic panics at every call, for tests that must stay
	// migrated. The panic value is an error naming the call site, the
	// replacement and the codemod rule.
	DeprecationPanic
)

var modeNames = [...]string{
	DeprecationOnce:  "once",
	DeprecationEvery: "every",
	DeprecationOff:   "off",
	DeprecationPanic: "panic",
}

// String returns the name of m as [EnvDeprecation] spells it.
func (m DeprecationMode) String() string {
	if m >= DeprecationOnce && m <= DeprecationPanic {
		return modeNames[m]
	}
	return "DeprecationMode(" + strconv.Itoa(int(m)) + ")"
}

// ParseDeprecationMode returns the mode named s. The empty string is
// [DeprecationOnce].
func ParseDeprecationMode(s string) (DeprecationMode, error) {
	if s == "" {
		return DeprecationOnce, nil
	}
	for m, name := range modeNames {
		if name == s && m != 0 {
			return DeprecationMode(m), nil
		}
	}
	return 0, fmt.Errorf("bridge: unknown %s %q (want once, every, off or panic)", EnvDeprecation, s)
}

var (
	mode     atomic.Int32 // a DeprecationMode; 0 until chosen
	modeOnce sync.Once
	logger   atomic.Pointer[slog.Logger] // nil means slog.Default()
)

// SetDeprecationMode sets the mode of the whole process, overriding
// [EnvDeprecation], and returns the mode it replaces. It is safe to call at
// any time; calls already past their check are not affected.
func SetDeprecationMode(m DeprecationMode) DeprecationMode {
	if m < DeprecationOnce || m > DeprecationPanic {
		panic("bridge: SetDeprecationMode: invalid " + m.String())
	}
	prev := currentMode()
	mode.Store(int32(m))
	return prev
}

// SetDeprecationLogger sets the logger of deprecation warnings and returns
// the one it replaces; nil means [slog.Default], the initial logger.
// Warnings are logged at [slog.LevelWarn], with the record's source set to
// the deprecated call site.
func SetDeprecationLogger(l *slog.Logger) *slog.Logger {
	return logger.Swap(l)
}

func currentLogger() *slog.Logger {
	if l := logger.Load(); l != nil {
		return l
	}
	return slog.Default()
}

func currentMode() DeprecationMode {
	if m := mode.Load(); m != 0 {
		return DeprecationMode(m)
	}
	modeOnce.Do(func() {
		m, err := ParseDeprecationMode(os.Getenv(EnvDeprecation))
		if err != nil {
			currentLogger().Warn(err.Error() + "; using once")
			m = DeprecationOnce
		}
		mode.CompareAndSwap(0, int32(m))
	})
	return DeprecationMode(mode.Load())
}

// DeprecationCounts returns, for each call site of a deprecated entry point
// seen since the process started, how many calls it made. Keys are
// "file:line" of the caller. Calls made in [DeprecationOff] are not counted.
func DeprecationCounts() map[string]int {
	counts := make(map[string]int)
	bySite.Range(func(_, v any) bool {
		s := v.(*site)
		counts[s.pos] += int(s.count.Load())
		return true
	})
	return counts
}

// entry identifies a deprecated entry point. The entry points and what
// their warnings say are generated from the built-in recipe, whose rules
// rewrite them: deprecation_table.go.
type entry uint8

//go:generate go run ../codemod/recipe/internal/gendeprecation

// A site is one call site of one deprecated entry point. Several program
// counters may share a site (two calls on one line).
type site struct {
	pos    string // "file:line"
	id     entry
	pc     uintptr // the first caller PC seen, for the log record's source
	count  atomic.Int64
	logged atomic.Bool
}

type siteKey struct {
	pos string
	id  entry
}

var (
	byPC   sync.Map // uintptr (caller PC) → *site: the hot path
	bySite sync.Map // siteKey → *site
)

// callerSkip makes runtime.Callers start at the caller of a deprecated entry
// point: 0 is runtime.Callers, 1 is warn, 2 the entry point. Inlining does
// not change it: runtime.Callers counts inlined frames as frames.
const callerSkip = 3

// warn records a call of the deprecated entry point id and, as the mode
// says, logs it or panics. It must be called directly by the entry point.
//
// Once a call site has been seen, warn costs one runtime.Callers into a
// one-element array, one sync.Map load keyed by the caller's PC and one
// atomic add: no symbolization, no allocation. runtime.Callers is most of
// it (BenchmarkDeprecationWarned).
func warn(ctx context.Context, id entry) {
	m := DeprecationMode(mode.Load())
	if m == DeprecationOff {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(callerSkip, pcs[:])
	record(ctx, id, m, pcs[0])
}

// record counts a call from pc and logs or panics as mode m says; 0 means
// the mode is not chosen yet.
func record(ctx context.Context, id entry, m DeprecationMode, pc uintptr) {
	if m == 0 {
		if m = currentMode(); m == DeprecationOff {
			return
		}
	}
	if pc == 0 {
		return
	}
	var s *site
	if v, ok := byPC.Load(pc); ok {
		s = v.(*site)
	} else {
		s = newSite(pc, id)
	}
	n := s.count.Add(1)
	switch m {
	case DeprecationPanic:
		d := entries[s.id]
		panic(fmt.Errorf("bridge: deprecated %s called at %s (%s=panic); use %s (codemod rule %s)",
			d.name, s.pos, EnvDeprecation, d.replacement, d.rule))
	case DeprecationEvery:
		s.log(ctx, n)
	default:
		if !s.logged.Load() && s.logged.CompareAndSwap(false, true) {
			s.log(ctx, n)
		}
	}
}

// newSite resolves pc to its file:line, the slow path of a site's first call.
func newSite(pc uintptr, id entry) *site {
	frame, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	pos := frame.File + ":" + strconv.Itoa(frame.Line)
	v, _ := bySite.LoadOrStore(siteKey{pos, id}, &site{pos: pos, id: id, pc: pc})
	v, _ = byPC.LoadOrStore(pc, v)
	return v.(*site)
}

// log writes one warning about s; n is the site's call count so far.
func (s *site) log(ctx context.Context, n int64) {
	if ctx == nil {
		ctx = context.Background()
	}
	l := currentLogger()
	if !l.Enabled(ctx, slog.LevelWarn) {
		return
	}
	d := entries[s.id]
	r := slog.NewRecord(time.Now(), slog.LevelWarn, "bridge: deprecated call", s.pc)
	r.AddAttrs(
		slog.String("call", d.name),
		slog.String("site", s.pos),
		slog.String("replacement", d.replacement),
		slog.String("rule", d.rule),
		slog.Int64("count", n),
	)
	_ = l.Handler().Handle(ctx, r) // a failing log handler must not fail the call
}
