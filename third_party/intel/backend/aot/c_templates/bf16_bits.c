// Part of NAME.c (see loader.c), copied in before the launch function where it takes a bf16 scalar.
/* float -> bfloat16 bits, rounded to nearest even. */
static uint16_t NAME_bf16_bits(float value) {
  uint32_t x;
  memcpy(&x, &value, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}
