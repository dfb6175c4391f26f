//go:build !unix

package config

import "os/exec"

// killGroupOnCancel: without process groups the default (kill the shell) and WaitDelay
// have to do.
func killGroupOnCancel(*exec.Cmd) {}
