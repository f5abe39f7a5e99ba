// Entry point of the `lookaheadkv` command.
#include <cstdio>

int main() {
  std::puts("lookaheadkv: under construction");
  return 0;
}
