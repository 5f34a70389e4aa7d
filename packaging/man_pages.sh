#!/bin/sh
# Writes the man pages of custos from its own --help (issue 22 point 4): custos(1) from
# `custos --help`, and custos-CMD(1) from `custos CMD --help` for every command it lists, so the
# pages say exactly what the binary says. Usage: man_pages.sh CUSTOS_BINARY OUT_DIR
set -eu
bin=$1
out=$2
mkdir -p "$out"
version=$("$bin" --version | sed 's/^custos //')
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

# Escapes a help text for roff: backslashes, and lines starting with . or '.
roff_text() {
  sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

page() {  # page NAME TITLE HELP_TEXT_FILE
  name=$1
  title=$2
  {
    printf '.TH %s 1 "%s" "custos %s" "Custos manual"\n' "$(echo "$name" | tr a-z A-Z)" "$date" "$version"
    printf '.SH NAME\n%s \\- %s\n' "$name" "$title"
    printf '.SH SYNOPSIS\n.B %s\n[\\fIOPTIONS\\fR]\n' "$(echo "$name" | sed 's/-/ /')"
    printf '.SH DESCRIPTION\n.nf\n'
    roff_text < "$3"
    printf '.fi\n.SH SEE ALSO\n'
    if [ "$name" = custos ]; then
      printf 'The commands: '
      sed -n 's/^  \([a-z][a-z-]*\)  .*/\\fBcustos-\1\\fR(1)/p' "$3" | paste -sd, - | sed 's/,/, /g'
      printf '\nThe guides in /usr/share/doc/custos (operations.md, cli.md).\n'
    else
      printf '\\fBcustos\\fR(1)\n'
    fi
  } > "$out/$name.1"
  gzip -9nf "$out/$name.1"
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# The usage lines name the binary by the path it ran from; a page names it `custos`.
"$bin" --help | sed "s|$bin|custos|g" > "$tmp"
page custos "the designated secure system for customer data" "$tmp"
for cmd in $(sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$tmp"); do
  sub=$(mktemp)
  "$bin" "$cmd" --help | sed "s|$bin|custos|g" > "$sub"
  summary=$(sed -n "s/^  $cmd  *//p" "$tmp" | head -1)
  page "custos-$cmd" "${summary:-custos $cmd}" "$sub"
  rm -f "$sub"
done
