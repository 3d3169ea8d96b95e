package demo

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress shows how far the demo is, one phase at a time. On a terminal
// it redraws one bar in place (at most ten times a second); anywhere else
// (a log, CI, a pipe) it writes plain lines: the phase, each quarter
// reached, and the phase's end.
type progress struct {
	w   io.Writer // nil: silent
	tty bool

	mu          sync.Mutex
	label       string
	total, done int
	started     time.Time
	drawn       time.Time
	quarter     int // the last quarter written in plain mode
}

const barWidth = 30

// start begins a phase of total steps (0: a phase without steps).
func (p *progress) start(label string, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label, p.total, p.done, p.started, p.quarter = label, total, 0, time.Now(), 0
	if p.w == nil {
		return
	}
	if p.tty {
		p.draw()
	} else {
		fmt.Fprintf(p.w, "%-12s started: %s steps\n", label, count(total))
	}
}

// add counts n more steps done.
func (p *progress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = min(p.total, p.done+n)
	if p.w == nil {
		return
	}
	if p.tty {
		if time.Since(p.drawn) >= 100*time.Millisecond {
			p.draw()
		}
		return
	}
	if q := quarterOf(p.done, p.total); q > p.quarter && q < 4 {
		p.quarter = q
		fmt.Fprintf(p.w, "%-12s %3d%%  %s/%s\n", p.label, q*25, count(p.done), count(p.total))
	}
}

// set moves the phase to n steps done (for counts read back, such as the
// chains matched so far).
func (p *progress) set(n int) {
	p.mu.Lock()
	d := n - p.done
	p.mu.Unlock()
	if d > 0 {
		p.add(d)
	}
}

// finish ends the phase with a note: what it came to.
func (p *progress) finish(note string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = p.total
	if p.w == nil {
		return
	}
	took := time.Since(p.started).Round(100 * time.Millisecond)
	if p.tty {
		p.draw()
		fmt.Fprintf(p.w, "  %s  %s\n", took, note)
	} else {
		fmt.Fprintf(p.w, "%-12s done in %s: %s\n", p.label, took, note)
	}
	p.label = "" // no phase open: abort has no line to close
}

// abort ends a phase that failed: on a terminal the bar's line is closed,
// so that the error is printed on a line of its own.
func (p *progress) abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil && p.tty && p.label != "" {
		fmt.Fprintln(p.w)
	}
}

// draw redraws the bar in place; the caller holds mu.
func (p *progress) draw() {
	p.drawn = time.Now()
	filled := barWidth
	if p.total > 0 {
		filled = barWidth * p.done / p.total
	}
	fmt.Fprintf(p.w, "\r\033[K%-12s [%s%s] %s/%s", p.label, strings.Repeat("█", filled), strings.Repeat("░", barWidth-filled),
		count(p.done), count(p.total))
}

func quarterOf(done, total int) int {
	if total <= 0 {
		return 0
	}
	return 4 * done / total
}

// count prints n with thousands separators: 12,345.
func count(n int) string {
	if n < 0 {
		return "-" + count(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
