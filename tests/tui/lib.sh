# tests/tui/lib.sh - placeholder
