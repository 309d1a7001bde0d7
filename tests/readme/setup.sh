# Run by tests/readme.rs in the temporary directory where README examples run, after the
# files under tests/readme/files/ were written there (placeholders expanded). It makes the
# directory a git repository the git and audit examples can use:
#   v1.2.0 = origin/main = the first commit (no secret), HEAD = a commit adding the files.
set -eu
git init -q -b main .
git config user.name "Dev Example"
git config user.email dev@example.com
git config commit.gpgsign false
git commit -q --allow-empty -m "start"
git tag v1.2.0
git update-ref refs/remotes/origin/main HEAD
git add -A
git commit -q -m "add configuration"
