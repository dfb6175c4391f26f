#!/usr/bin/env bash
# Renders docs/lens-screen.png, the README screenshot of the Lens screen, from a real run of
# `foundation demo` under tmux: capture-pane -e keeps the colors, docs/ansipng draws them.
# Not run by CI. Needs tmux and the DejaVu fonts (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v tmux >/dev/null 2>&1 || need+=(tmux)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q && apt-get install -y -q "${need[@]}"
fi

work="$(mktemp -d)"
sock="$work/tmux.sock"
cleanup() { tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/foundation" .
(cd docs/ansipng && go build -o "$work/ansipng" .)

cols=120 rows=36
# A fixed HOME and TMPDIR keep the run away from the user's own files; COLORTERM asks for
# true color so the capture has the theme's real colors.
env -u TMUX HOME="$work" TMPDIR="$work" COLORTERM=truecolor \
  tmux -S "$sock" -f /dev/null new-session -d -s shot -x "$cols" -y "$rows" \
  "$work/foundation demo --issues 3000 --seed 1"
tmux -S "$sock" set-option -g default-terminal tmux-256color >/dev/null

# wait_for TEXT: poll the screen until TEXT shows, at most 60 s.
wait_for() {
  for _ in $(seq 1 600); do
    if tmux -S "$sock" capture-pane -p -t shot | grep -qF -- "$1"; then return 0; fi
    sleep 0.1
  done
  echo "screenshot.sh: timed out waiting for: $1" >&2
  tmux -S "$sock" capture-pane -p -t shot >&2
  exit 1
}

wait_for "Foundation › Roadmap"
# Expand the first epic and one of its stories, then rest the cursor on a story.
tmux -S "$sock" send-keys -t shot g l
wait_for "├─"
tmux -S "$sock" send-keys -t shot j j j
sleep 0.3 # the last key's frame; nothing on screen tells it apart from the one before
tmux -S "$sock" capture-pane -e -p -t shot > "$work/screen.ans"
tmux -S "$sock" send-keys -t shot q

"$work/ansipng" -in "$work/screen.ans" -out docs/lens-screen.png -cols "$cols" -rows "$rows"
echo "wrote docs/lens-screen.png"
