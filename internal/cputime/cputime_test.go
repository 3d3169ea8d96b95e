package cputime

import (
	"os"
	"testing"
	"time"
)

func TestReadsThisProcess(t *testing.T) {
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		// burn a little CPU, so that /proc has ticks to show
	}
	if Self() <= 0 {
		t.Fatalf("Self() = %v after 50 ms of work", Self())
	}
	if got := Of(os.Getpid()); got <= 0 || got > Self()+time.Second {
		t.Fatalf("Of(self) = %v, Self() = %v", got, Self())
	}
	if got := Parent(os.Getpid()); got != os.Getppid() {
		t.Fatalf("Parent(self) = %d, want %d", got, os.Getppid())
	}
	if Of(-1) != 0 || Parent(-1) != 0 {
		t.Fatal("an unknown pid must read as 0")
	}
}
