#define _GNU_SOURCE
#include "CStarlingProcess.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t starling_spawn(const char *path, char *const argv[], char *const envp[], int log_fd, const char *cwd) {
    pid_t parent = getpid();
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return -e;
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here to exec.
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) { dup2(devnull, 0); }
        if (log_fd >= 0) { dup2(log_fd, 1); dup2(log_fd, 2); }
        if (cwd != NULL && chdir(cwd) != 0) {
            int e = errno;
            (void)!write(pipefd[1], &e, sizeof(e));
            _exit(127);
        }
        execve(path, argv, envp);
        int e = errno;
        (void)!write(pipefd[1], &e, sizeof(e));
        _exit(127);
    }
    close(pipefd[1]);
    int child_errno = 0;
    ssize_t n;
    do { n = read(pipefd[0], &child_errno, sizeof(child_errno)); } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == sizeof(child_errno)) {
        int status;
        waitpid(pid, &status, 0);
        return -child_errno;
    }
    return pid;
}

int starling_try_wait(pid_t pid, int *exit_code, int *signal_number) {
    int status = 0;
    pid_t r;
    do { r = waitpid(pid, &status, WNOHANG); } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    if (r == 0) return 0;
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    *signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return r;
}

int starling_kill_group(pid_t pgid, int sig) {
    if (kill(-pgid, sig) != 0) return -errno;
    return 0;
}
