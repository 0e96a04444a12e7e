//go:build unix

package runner

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts a child in its own process group so that Ctrl-C in
// the terminal reaches the runner only, and the runner stops children itself.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func terminate(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }

func kill(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
