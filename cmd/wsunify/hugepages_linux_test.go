package main

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// hugePagesChild names the process in which TestHeapPrefersHugePages
// checks the heap: one whose heap nothing else has grown.
const hugePagesChild = "WSUNIFY_TEST_HUGEPAGES_CHILD"

// TestHeapPrefersHugePages checks, in a fresh process, that after
// preferHugePages the objects the program allocates next lie in memory the
// kernel is advised to back with huge pages, and that preparing it touched
// none of that memory.
func TestHeapPrefersHugePages(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("this kernel has no transparent huge pages; preferHugePages's advice is refused and changes nothing")
	}
	if os.Getenv(hugePagesChild) != "" {
		checkHugeHeap(t)
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeapPrefersHugePages$", "-test.v")
	cmd.Env = append(os.Environ(), hugePagesChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHeapPrefersHugePages") {
		t.Fatalf("the check in a fresh process failed: %v\n%s", err, out)
	}
}

func checkHugeHeap(t *testing.T) {
	const n = 64 << 20
	preferHugePages(n)
	rss := mappingOf(t, uintptr(unsafe.Pointer(new(int)))).rss
	// What a compiler or a parser allocates: many small objects with
	// pointers, 16 MiB of them.
	type node struct {
		next *node
		val  [6]int
	}
	var list *node
	for range (16 << 20) / int(unsafe.Sizeof(node{})) {
		list = &node{next: list}
	}
	m := mappingOf(t, uintptr(unsafe.Pointer(list)))
	if !m.huge {
		t.Errorf("the heap's new objects lie in %s, not advised to use huge pages", m.name)
	}
	if rss > n/2 {
		t.Errorf("after preferHugePages(%d MiB), %d MiB of its mapping are resident: the range was touched", n>>20, rss>>20)
	}
}

// mapping is the part of /proc/self/smaps about one mapping.
type mapping struct {
	name string // its address range
	huge bool   // VmFlags has hg: advised to use huge pages
	rss  int    // resident bytes
}

// mappingOf returns the mapping of the process that holds addr.
func mappingOf(t *testing.T, addr uintptr) mapping {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur *mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			if cur != nil {
				return *cur // the mapping after addr's: addr's has no VmFlags line
			}
			if uint64(addr) >= start && uint64(addr) < end {
				cur = &mapping{name: fields[0]}
			}
			continue
		}
		if cur == nil {
			continue
		}
		switch fields[0] {
		case "Rss:":
			kb, _ := strconv.Atoi(fields[1])
			cur.rss = kb << 10
		case "VmFlags:":
			for _, fl := range fields[1:] {
				cur.huge = cur.huge || fl == "hg"
			}
			return *cur
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur == nil {
		t.Fatalf("no mapping holds %#x", addr)
	}
	return *cur
}
