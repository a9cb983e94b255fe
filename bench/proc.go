package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

// cpuSecondsOf reads user+system CPU time of pid from /proc/<pid>/stat.
func cpuSecondsOf(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading /proc stat: %w", err)
	}
	// Fields after the command name (in parentheses, which may hold spaces).
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	fields := strings.Fields(string(raw[i+1:]))
	// utime and stime are fields 14 and 15 of stat; fields[0] is field 3.
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parsing /proc stat: %w", err)
	}
	return (utime + stime) / clockTicks, nil
}

// emulatorPID finds the emulator's Java process serving port (0: not found,
// e.g. an emulator on another host); its CPU time shows how much work each
// variant asks of the backend.
func emulatorPID(port string) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range stats {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cmd := string(bytes.ReplaceAll(raw, []byte{0}, []byte{' '}))
		if strings.Contains(cmd, "java") && strings.Contains(cmd, "CloudFirestore") && strings.Contains(cmd, "--port="+port) {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			if err == nil {
				return pid
			}
		}
	}
	return 0
}
