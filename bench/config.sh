# Sourced by raw.sh and compose.sh: writes the config file that cthulhu renders
# from the bench template, so every contender's containers mount the same bytes.
# config DIR IP NAME INDEX VALUE (instances with INDEX < 5 carry VALUE).
config() {
  local v=""
  if [ "$4" -lt 5 ]; then v=", \"v\": \"$5\""; fi
  mkdir -p "$1/$2/etc" "$1/$2/var"
  printf '{"self": "%s", "name": "%s"%s}\n' "$2" "$3" "$v" >"$1/$2/etc/config.json"
}
