# bench/traces/shell.sh - the bash script whose allocations make bench/traces/shell.trace:
# string building, arrays, associative arrays, word splitting, functions and substitutions
# (an interpreter's mix of many small, short-lived and a few growing blocks).
declare -A count
words=""
for i in $(seq 1 150); do
  w="w$((i * 7919 % 613))"
  words="$words $w"
  count[$w]=$(( ${count[$w]:-0} + 1 ))
done
fib() { local n=$1; if (( n < 2 )); then echo "$n"; else echo $(( $(fib $((n-1))) + $(fib $((n-2))) )); fi; }
acc=()
for i in $(seq 1 40); do
  line=$(printf '%s-%04d-%s' "rec" "$i" "${words:i:12}")
  acc+=("${line//-/_}")
  if (( i % 7 == 0 )); then acc=("${acc[@]:1}"); fi
done
total=0
for k in "${!count[@]}"; do total=$(( total + count[$k] )); done
s=""
for e in "${acc[@]}"; do s="${s}${e^^}|"; done
r=$(fib 8)
echo "${#words} ${#acc[@]} $total ${#s} $r" > /dev/null
