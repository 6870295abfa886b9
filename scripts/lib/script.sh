# shellcheck shell=bash disable=SC2034 # repo is used by the scripts that source this file
# What every entry-point script may use: $repo, its -h/--help text (the header comment), and timing.
# Sourced; expects nothing. Sets repo (the repository root, found from this file's location).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# print_usage: the script's header comment: the comment lines after the shebang, without "# ".
print_usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

# only_help LOG ARG: for a script that takes no argument but -h/--help, given its first argument:
# -h/--help prints the header and exits 0; none returns; anything else is reported through the
# function LOG ("unknown argument: ARG") and exits 2.
only_help() {
  case $2 in
    -h | --help)
      print_usage
      exit 0
      ;;
    "") ;;
    *)
      "$1" "unknown argument: $2"
      exit 2
      ;;
  esac
}

# need_args_or_help ARG...: for a script that needs arguments: none prints the header on stderr and
# exits 2; -h/--help first prints it on stdout and exits 0.
need_args_or_help() {
  [ $# -ge 1 ] || {
    print_usage >&2
    exit 2
  }
  case $1 in -h | --help)
    print_usage
    exit 0
    ;;
  esac
}

# err MESSAGE...: MESSAGE on stderr, with no prefix.
err() { printf '%s\n' "$*" >&2; }

# took START: the whole seconds since START (date +%s), as "12s".
took() { echo "$(($(date +%s) - $1))s"; }

# elapsed START: the seconds since START (date +%s.%N), with one decimal.
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
