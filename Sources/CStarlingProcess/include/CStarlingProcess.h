#ifndef C_STARLING_PROCESS_H
#define C_STARLING_PROCESS_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` in a new process group, stdout and stderr appended to `log_fd`,
/// stdin from /dev/null. The child asks the kernel to SIGKILL it when the spawning thread exits, so
/// children never outlive a killed parent. Returns the pid, or -errno on failure.
pid_t starling_spawn(const char *path, char *const argv[], char *const envp[], int log_fd, const char *cwd);

/// waitpid(pid, WNOHANG). Returns 0 while running, pid when reaped (status in *exit_code / *signal), -errno on error.
int starling_try_wait(pid_t pid, int *exit_code, int *signal_number);

/// Sends `sig` to the whole process group `pgid`. Returns 0 or -errno.
int starling_kill_group(pid_t pgid, int sig);

#endif
