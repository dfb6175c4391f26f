//go:build unix

package config

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel runs the command in its own process group and kills the whole group on
// timeout, so a password manager's children do not outlive it holding our pipes.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
