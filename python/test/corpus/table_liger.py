"""Liger Kernel 0.8.5 (PyPI `liger-kernel`): kernels as its wrappers launch them for a typical small shape.

Shapes: hidden size 1024 in bf16 (Liger's wrappers: BLOCK_SIZE = next_power_of_2(n_cols) and num_warps from
``liger_kernel.ops.utils.calculate_settings``: 4 below 2048 columns, 8 from 2048), vocabulary 32000 for the
losses (on XPU Liger caps the block at 4096 and launches cross entropy with 32 warps), Llama-style heads
(32 query heads, 8 key/value heads, head size 128) for rotary embeddings.
"""

import triton.language as tl

from harness import Entry

P = "liger-kernel"
OPS = "liger_kernel.ops."
F32 = "*fp32"
BF16 = "*bf16"
LLAMA, GEMMA = 0, 1  # liger_kernel.ops.rms_norm._CASTING_MODE_*


# liger_cross_entropy_kernel as LigerCrossEntropyFunction launches it (mean reduction, no weight, no z-loss).
_CE_TYPES = {"Y_ptr": "*i64", "weight_ptr": F32, "loss_ptr": F32, "z_loss_ptr": F32, "token_accuracy_ptr": F32,
             "predicted_tokens_ptr": "*i64", "sum_non_ignore_weight": "fp32", "weight_sum": "fp32", "softcap": "fp32"}
_CE_CONSTEXPRS = {"lse_square_scale": 0.0, "label_smoothing": 0.0, "reduction": "mean", "RETURN_Z_LOSS": False,
                  "RETURN_TOKEN_ACCURACY": False, "RETURN_PREDICTED_TOKENS": False, "BLOCK_SIZE": 4096,
                  "HAS_WEIGHT": False, "HAS_SOFTCAPPING": False, "HAS_GRADIENTS": True}


def _e(name: str, module: str, attr: str, category: str, **kw) -> Entry:
    return Entry(f"liger/{name}", P, OPS + module, attr, category, **kw)


ENTRIES = [
    _e("rms_norm_fwd", "rms_norm", "_rms_norm_forward_kernel", "norm", ptr=BF16,
       types={"RSTD_ptr": F32, "eps": "fp32", "offset": "fp32"},
       constexprs={"casting_mode": LLAMA, "elementwise_affine": True, "BLOCK_SIZE": 1024}),
    _e("rms_norm_bwd", "rms_norm", "_rms_norm_backward_kernel", "norm", ptr=BF16,
       types={"RSTD_ptr": F32, "dW_ptr": F32, "offset": "fp32"},
       constexprs={"X_dtype": tl.bfloat16, "casting_mode": LLAMA, "elementwise_affine": True,
                   "BLOCK_SIZE": 1024, "COMPUTE_DW": True}),
    _e("rms_norm_block_fwd", "rms_norm", "_block_rms_norm_forward_kernel", "norm", ptr=BF16,
       types={"RSTD_ptr": F32, "eps": "fp32", "offset": "fp32"},
       constexprs={"casting_mode": GEMMA, "elementwise_affine": True, "BLOCK_SIZE": 256, "BLOCK_ROW": 16}),
    _e("fused_add_rms_norm_fwd", "fused_add_rms_norm", "_fused_add_rms_norm_forward_kernel", "norm", ptr=BF16,
       types={"RSTD_ptr": F32, "eps": "fp32", "offset": "fp32"},
       constexprs={"casting_mode": LLAMA, "BLOCK_SIZE": 1024}),
    _e("layer_norm_fwd", "layer_norm", "_layer_norm_forward_kernel", "norm", ptr=BF16,
       types={"Mean_ptr": F32, "RSTD_ptr": F32, "eps": "fp32"}, constexprs={"BLOCK_SIZE": 1024}),
    _e("layer_norm_bwd", "layer_norm", "_layer_norm_backward_kernel", "norm", ptr=BF16,
       types={"Mean_ptr": F32, "RSTD_ptr": F32, "DW_ptr": F32, "DB_ptr": F32},
       constexprs={"rows_per_program": 16, "BLOCK_SIZE": 1024, "COMPUTE_DW": True, "COMPUTE_DB": True}),
    _e("group_norm_fwd", "group_norm", "_group_norm_forward_kernel", "norm",
       types={"eps": "fp32"}, constexprs={"BLOCK_SIZE": 1024}),
    _e("poly_norm_fwd", "poly_norm", "_poly_norm_forward_kernel", "norm", ptr=BF16,
       types={"RSTD_ptr": F32, "B_ptr": F32, "eps": "fp32"}, constexprs={"BLOCK_SIZE": 1024}),
    _e("rope", "rope", "_triton_rope", "rotary", ptr=BF16, types={"cos": BF16, "sin": BF16},
       constexprs={"bs": 1, "cos_bs": 1, "n_qh": 32, "n_kh": 8, "hd": 128, "pad_n_qh": 32, "pad_n_kh": 8,
                   "pad_hd": 128, "pad_rd": 128, "rd": 128, "BLOCK_SIZE": 32, "BACKWARD_PASS": False}),
    _e("qwen2vl_mrope", "qwen2vl_mrope", "_triton_qwen2vl_mrope", "rotary", ptr=BF16,
       types={"q_ptr": BF16, "k_ptr": BF16, "cos": BF16, "sin": BF16},
       constexprs={"bs": 1, "n_qh": 16, "n_kh": 2, "hd": 128, "pad_n_qh": 16, "pad_n_kh": 2, "pad_hd": 128,
                   "mrope_section_t": 16, "mrope_section_h": 24, "BLOCK_SIZE": 16, "BACKWARD_PASS": False}),
    _e("softmax_fwd", "softmax", "_softmax_single_block_forward_kernel", "softmax", constexprs={"BLOCK_SIZE": 1024}),
    _e("softmax_fwd_multi_block", "softmax", "_softmax_multi_block_forward_kernel", "softmax",
       constexprs={"BLOCK_SIZE": 65536 // 16}, num_warps=32,
       frontend="calls a dtype to make a scalar (`tl.float32(-float('inf'))`), which Triton 3.3 does not support "
                "('dtype' object is not callable)"),
    _e("softmax_bwd", "softmax", "_softmax_single_block_backward_kernel", "softmax", constexprs={"BLOCK_SIZE": 1024}),
    _e("cross_entropy", "cross_entropy", "liger_cross_entropy_kernel", "cross-entropy", ptr=BF16, num_warps=32,
       types=_CE_TYPES, constexprs=_CE_CONSTEXPRS),
    # Gemma 2's logit soft-capping: tanh from libdevice.
    _e("cross_entropy_softcap", "cross_entropy", "liger_cross_entropy_kernel", "cross-entropy", ptr=BF16,
       num_warps=32, types=_CE_TYPES,
       constexprs={**_CE_CONSTEXPRS, "label_smoothing": 0.1, "HAS_SOFTCAPPING": True}),
    _e("kl_div_fwd", "kl_div", "_kldiv_kernel_forward", "loss", num_warps=32, types={"eps": "fp32"},
       constexprs={"BLOCK_SIZE": 4096, "reduction": 1, "log_target": False}),
    _e("jsd", "jsd", "_jsd_kernel", "loss", types={"label_ptr": "*i64"}, num_warps=32,
       constexprs={"beta": 0.5, "ignore_index": -100, "BLOCK_SIZE": 4096, "HAS_LABEL": False}),
    _e("tv_distance", "tvd", "_tv_distance_kernel", "loss", types={"label_ptr": "*i64", "scale": "fp32"},
       num_warps=32, constexprs={"ignore_index": -100, "BLOCK_SIZE": 4096, "HAS_LABEL": False,
                                 "reduction": "batchmean"}),
    _e("geglu_fwd", "geglu", "_geglu_tanh_forward_kernel", "activation",
       types={"a": BF16, "b": BF16, "c": BF16}, constexprs={"n_cols": 4096, "BLOCK_SIZE": 4096}, num_warps=8),
    _e("swiglu_fwd", "swiglu", "_swiglu_forward_kernel", "activation", ptr=BF16, types={"gate_multiplier": "fp32"},
       constexprs={"n_cols": 4096, "BLOCK_SIZE": 4096}, num_warps=8),
    _e("swiglu_bwd", "swiglu", "_swiglu_backward_kernel", "activation", ptr=BF16, types={"gate_multiplier": "fp32"},
       constexprs={"n_cols": 4096, "BLOCK_SIZE": 4096}, num_warps=8),
    _e("dyt_fwd", "dyt", "_dyt_fwd_kernel", "norm", config=0,
       types={"X": BF16, "Y": BF16, "Alpha": BF16, "Gamma": BF16, "Beta": BF16},
       constexprs={"HAVE_BETA": True, "N": 1024}),
    _e("moe_router_histogram", "fused_moe_kernels", "_moe_router_histogram_kernel", "fused-moe",
       types={"topk_indices_ptr": "*i32", "partial_sum_ptr": "*i32"},
       constexprs={"E": 8, "TOKENS_PER_TILE": 128, "K_POW2": 2, "K": 2, "E_POW2": 8}),
    _e("moe_up_proj_swiglu", "fused_moe_kernels", "_fused_up_proj_swiglu_kernel", "fused-moe", ptr=BF16, config=0,
       full_only=True,
       types={"x_gather_idx_ptr": "*i32", "expert_start_ptr": "*i32", "tile_row_start_ptr": "*i32",
              "tile_expert_ptr": "*i32"},
       constexprs={"H_dim": 1024, "I_dim": 512, "stride_x_H": 1, "stride_w_K": 1, "stride_pre_N": 1,
                   "stride_post_N": 1, "BLOCK_M": 64}),
    _e("moe_down_proj", "fused_moe_kernels", "_fused_down_proj_kernel", "fused-moe", ptr=BF16, config=0,
       types={"expert_start_ptr": "*i32", "tile_row_start_ptr": "*i32", "tile_expert_ptr": "*i32"},
       constexprs={"H_dim": 1024, "I_dim": 512, "stride_post_I": 1, "stride_w_I": 1, "stride_Y_H": 1,
                   "BLOCK_M": 64}),
    _e("sparsemax_fwd", "sparsemax", "_sparsemax_forward_kernel", "softmax", constexprs={"BLOCK_SIZE": 1024,
                                                                                       "num_warps": 4}),
    _e("neighborhood_attention_qk", "fused_neighborhood_attention", "_fused_neighborhood_attention_qk_kernel",
       "attention", ptr="*fp32", types={"mask_ptr": "*i1"},
       constexprs={"batch_size": 1, "num_heads": 8, "seq_len": 256, "head_dim": 64, "scale": 0.125,
                   "kernel_size": 7, "dilation": 1, "BLOCK_SIZE_M": 32, "BLOCK_SIZE_N": 32, "BLOCK_SIZE_K": 32,
                   "num_stages": 2, "num_warps": 4}),
    # Neighborhood attention's second half: the attention weights times V.
    _e("neighborhood_attention_av", "fused_neighborhood_attention", "_fused_neighborhood_attention_av_kernel",
       "attention", ptr="*fp32",
       constexprs={"batch_size": 1, "num_heads": 8, "seq_len": 256, "head_dim": 64, "BLOCK_SIZE_M": 32,
                   "BLOCK_SIZE_N": 32, "BLOCK_SIZE_K": 32, "num_stages": 2, "num_warps": 4}),
    _e("multi_token_attention_mask", "multi_token_attention", "_mask_fwd_kernel", "attention",
       types={"scores_ptr": F32}, constexprs={"mask_val": -1e9, "BLOCK": 64, "num_warps": 4}),
]
