#ifndef C_STARLING_PROCESS_H
#define C_STARLING_PROCESS_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` in a new process group, stdout and stderr appended to `log_fd`, stdin
/// from /dev/null, and no other descriptor of the parent: everything above 2 is closed at exec. When
/// `cgroup_procs_fd` is not -1 the child first moves itself into that cgroup (the fd of its `cgroup.procs`), so
/// every process it starts is born there. The child asks the kernel to SIGKILL it when the spawning thread exits.
/// Returns the pid, or -errno on failure.
pid_t starling_spawn(const char *path, char *const argv[], char *const envp[], int log_fd, const char *cwd,
                     int cgroup_procs_fd);

/// waitpid(pid, WNOHANG). Returns 0 while running, pid when reaped (status in *exit_code / *signal), -errno on error.
int starling_try_wait(pid_t pid, int *exit_code, int *signal_number);

/// Sends `sig` to the whole process group `pgid`. Returns 0 or -errno.
int starling_kill_group(pid_t pgid, int sig);

/// Sends `sig` to every process (but the caller) whose environment holds the entry `tag` ("NAME=VALUE"), holding
/// each by a pidfd so that a reused pid is never signalled. Returns how many were signalled, or -errno.
int starling_signal_tagged(const char *tag, int sig);

/// Starts a watchdog process that waits for this process to die (by any means, SIGKILL included) and then kills
/// every process in the cgroup tree `cgroup_root` (removing its child cgroups) and every process tagged `tag`;
/// either may be NULL. Returns the watchdog's pid or -errno.
pid_t starling_start_watchdog(const char *cgroup_root, const char *tag);

#endif
