// Package cputime reads how much CPU processes on this machine have used:
// this process, through getrusage, and any other, through /proc (Linux).
// The benchmarks use it to say which side of a run, the Go process or the
// PostgreSQL server next to it, spent the cores.
package cputime

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Self is the CPU time, user and system, this process has used.
func Self() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Of is the CPU time, user and system, process pid has used; 0 if /proc
// cannot tell (it ended, or this is not Linux).
func Of(pid int) time.Duration {
	f := stat(pid)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTick
}

// Parent is process pid's parent pid, 0 if unknown.
func Parent(pid int) int {
	f := stat(pid)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// clockTick is USER_HZ, the unit of /proc's CPU times: 100 on Linux.
const clockTick = 100

// stat returns the fields of /proc/PID/stat after the command name, which
// is in parentheses and may hold spaces: the state is [0], the parent [1],
// utime and stime [11] and [12].
func stat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}
