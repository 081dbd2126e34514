package redistest

import "syscall"

var syscallZero = syscall.Signal(0)
