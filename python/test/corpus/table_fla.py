"""flash-linear-attention 0.6.0 (PyPI `flash-linear-attention`, kernels in `fla-core` 0.6.0): kernels as its
wrappers launch them for a typical small shape.

Shape: batch 1, 1024 tokens, 8 heads, key and value head size 64, chunk size 64, bf16 inputs, fixed-length
sequences (``cu_seqlens`` None, so IS_VARLEN is False and the optional tensors are constexpr None, as Triton
specialises a None argument).  Block sizes and warps: fla's own autotune configs (``config=``) or what its wrapper
computes on a device without Hopper/Ampere shared memory (e.g. ``parallel_attn_fwd``: BS=32, BK=64, BV=64, 2 warps).
"""

from harness import Entry

P = "flash-linear-attention"
BF16, F32, I32 = "*bf16", "*fp32", "*i32"
T, H, K, V, BT = 1024, 8, 64, 64, 64
NOT_VARLEN = {"cu_seqlens": None, "chunk_indices": None, "IS_VARLEN": False}


def _e(name: str, module: str, attr: str, category: str, tensors: str, **kw) -> Entry:
    types = {n: BF16 for n in tensors.split()}
    types.update(kw.pop("types", {}))
    return Entry(f"fla/{name}", P, "fla." + module, attr, category, types=types, **kw)


ENTRIES = [
    _e("parallel_attn_fwd", "ops.attn.parallel", "parallel_attn_fwd_kernel", "attention", "q k v o", full_only=True,
       types={"lse": F32, "scale": "fp32"}, num_warps=2,
       constexprs={**NOT_VARLEN, "g_cumsum": None, "sink_bias": None, "W": 0, "B": 1, "H": H, "HQ": H, "G": 1,
                   "K": K, "V": V, "BT": 64, "BS": 32, "BK": 64, "BV": 64, "USE_G": False, "USE_SINK_BIAS": False,
                   "USE_WINDOW": False}),
    _e("parallel_attn_bwd_preprocess", "ops.attn.parallel", "parallel_attn_bwd_kernel_preprocess", "attention",
       "o do", types={"delta": F32}, constexprs={"B": 64, "V": V}),
    _e("parallel_attn_bwd_dq", "ops.attn.parallel", "parallel_attn_bwd_kernel_dq", "attention", "q k v do dq",
       full_only=True, types={"lse": F32, "delta": F32, "scale": "fp32"}, num_warps=2,
       constexprs={**NOT_VARLEN, "dg_cumsum": None, "g_cumsum": None, "W": 0, "B": 1, "H": H, "HQ": H, "G": 1,
                   "K": K, "V": V, "BT": 64, "BS": 32, "BK": 64, "BV": 64, "USE_G": False, "USE_WINDOW": False}),
    _e("parallel_attn_bwd_dkv", "ops.attn.parallel", "parallel_attn_bwd_kernel_dkv", "attention",
       "q k v do dk dv", types={"lse": F32, "delta": F32, "scale": "fp32"}, num_warps=2,
       constexprs={**NOT_VARLEN, "dg_cumsum": None, "g_cumsum": None, "W": 0, "B": 1, "H": H, "HQ": H, "G": 1,
                   "K": K, "V": V, "BT": 16, "BS": 16, "BK": 64, "BV": 64, "USE_G": False, "USE_WINDOW": False}),
    _e("attn_decoding", "ops.attn.decoding", "naive_attn_decoding_kernel", "paged-decode-attention", "q k v o",
       full_only=True, types={"scale": "fp32", "cu_seqlens": I32}, config=2,
       constexprs={"g_cumsum": None, "sink_bias": None, "B": 1, "H": H, "HQ": H, "G": 1, "K": K, "V": V, "W": 0,
                   "BS": 64, "BK": 64, "BV": 64, "USE_G": False, "USE_SINK_BIAS": False}),
    _e("chunk_local_cumsum", "ops.utils.cumsum", "chunk_local_cumsum_scalar_kernel", "scan", "",
       types={"s": F32, "o": F32}, config=0,
       constexprs={**NOT_VARLEN, "scale": None, "B": 1, "H": H, "BT": BT, "REVERSE": False, "HAS_SCALE": False,
                   "USE_GRAPH": False}),
    _e("chunk_global_cumsum", "ops.utils.cumsum", "chunk_global_cumsum_vector_kernel", "scan", "",
       types={"s": F32, "o": F32}, config=0,
       constexprs={"cu_seqlens": None, "IS_VARLEN": False, "scale": None, "B": 1, "H": H, "S": K, "BS": 32,
                   "REVERSE": False, "HAS_SCALE": False}),
    _e("softmax_fwd", "ops.utils.softmax", "softmax_fwd_kernel", "softmax", "", types={"x": F32, "p": F32},
       config=3, constexprs={"D": 64, "B": 64}),
    _e("logsumexp_fwd", "ops.utils.logsumexp", "logsumexp_fwd_kernel", "reduction", "",
       types={"x": F32, "z": F32}, config=0, constexprs={"scale": None, "D": 4096, "B": 1024, "HAS_SCALE": False}),
    _e("chunk_fwd_h", "ops.common.chunk_h", "chunk_fwd_kernel_h", "linear-attention", "k v h", config=0,
       constexprs={"cu_seqlens": None, "split_offsets": None, "IS_VARLEN": False, "g": None, "g_gamma": None,
                   "gk": None, "gv": None, "h0": None, "ht": None, "H": H, "K": K, "V": V, "BT": BT, "BS": BT,
                   "USE_G": False, "USE_G_GAMMA": False, "USE_GK": False, "USE_GV": False,
                   "USE_INITIAL_STATE": False, "STORE_FINAL_STATE": False, "STATE_V_FIRST": False}),
    _e("chunk_fwd_o", "ops.common.chunk_o", "chunk_fwd_kernel_o", "linear-attention", "q k v h o", full_only=True,
       types={"scale": "fp32"}, num_warps=4, constexprs={**NOT_VARLEN, "g": None, "g_gamma": None, "H": H,
                                                         "HV": H, "K": K, "V": V, "BT": BT, "BK": 64, "BV": 64,
                                                         "USE_G": False, "USE_G_GAMMA": False,
                                                         "STATE_V_FIRST": False}),
    _e("gla_fwd_o", "ops.gla.chunk", "chunk_gla_fwd_kernel_o", "linear-attention", "q v h o A", full_only=True,
       types={"g": F32, "scale": "fp32"}, num_warps=4,
       constexprs={**NOT_VARLEN, "H": H, "HV": H, "K": K, "V": V, "BT": BT, "BK": 32, "BV": 32,
                   "STATE_V_FIRST": False, "USE_GRAPH": False}),
    _e("delta_rule_recompute_w_u", "ops.delta_rule.wy_fast", "recompute_w_u_fwd_kernel", "linear-attention",
       "k v beta w u A", config=0, full_only=True,
       constexprs={**NOT_VARLEN, "H": H, "K": K, "V": V, "BT": BT, "BK": 64, "BV": 64}),
    _e("solve_tril_16x16", "ops.utils.solve_tril", "solve_tril_16x16_kernel", "linear-attention", "",
       types={"A": F32, "Ai": F32}, config=0,
       constexprs={**NOT_VARLEN, "H": H, "BT": 16, "USE_TMA": False, "DOT_PRECISION": "ieee"}),
    _e("fused_recurrent_fwd", "ops.common.fused_recurrent", "fused_recurrent_fwd_kernel", "linear-attention",
       "q k v o", types={"scale": "fp32"}, config=0,
       constexprs={"cu_seqlens": None, "IS_VARLEN": False, "g": None, "g_gamma": None, "gk": None, "gv": None,
                   "h0": None, "ht": None, "H": H, "K": K, "V": V, "BK": 64, "BV": 64, "REVERSE": False,
                   "USE_G": False, "USE_G_GAMMA": False, "USE_GK": False, "USE_GV": False,
                   "USE_INITIAL_STATE": False, "STORE_FINAL_STATE": False, "STATE_V_FIRST": False}),
    _e("mean_pooling_fwd", "ops.utils.pooling", "mean_pooling_fwd_kernel", "reduction", "x o", config=0,
       constexprs={**NOT_VARLEN, "H": H, "D": K, "BT": BT, "BD": 64}),
    _e("l2norm_fwd", "modules.norm.l2norm", "l2norm_fwd_kernel", "norm", "x y", types={"rstd": F32, "eps": "fp32"},
       config=0, constexprs={"D": 64, "BD": 64, "NB": 1}),
    _e("layer_norm_fwd", "modules.norm.layernorm", "layer_norm_fwd_kernel", "norm", "x y w b", full_only=True,
       types={"mean": F32, "rstd": F32, "eps": "fp32"}, config=0,
       constexprs={"res": None, "res_out": None, "G": 1, "D": 1024, "BD": 1024, "NB": 1, "IS_RMS_NORM": False,
                   "HAS_RESIDUAL": False, "STORE_RESIDUAL_OUT": False, "HAS_WEIGHT": True, "HAS_BIAS": True}),
    _e("rms_norm_gated_fwd", "modules.norm.fused_norm_gate", "layer_norm_gated_fwd_kernel", "norm", "x g y w",
       types={"rstd": F32, "eps": "fp32"}, num_warps=4,
       constexprs={"b": None, "residual": None, "residual_out": None, "mean": None, "D": 1024, "BT": 8,
                   "BD": 1024, "NB": 1, "ACTIVATION": "swish", "IS_RMS_NORM": True, "STORE_RESIDUAL_OUT": False,
                   "HAS_RESIDUAL": False, "HAS_WEIGHT": True, "HAS_BIAS": False}),
    _e("rotary_embedding", "modules.rotary.ops", "rotary_embedding_kernel", "rotary", "x y",
       types={"cos": F32, "sin": F32}, config=0,
       constexprs={**NOT_VARLEN, "seq_offsets": 0, "B": 1, "H": H, "D": K, "R": K // 2, "TR": 32, "BT": 32,
                   "BD": 64, "IS_SEQLEN_OFFSETS_TENSOR": False, "INTERLEAVED": False, "CONJUGATE": False}),
    _e("swiglu_fwd", "modules.activations.ops", "swiglu_fwd_kernel", "activation", "x y z", config=0,
       constexprs={"D": 1024}),
]
