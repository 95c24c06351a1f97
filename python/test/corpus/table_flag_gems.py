"""FlagGems 5.0.2 (PyPI `flag-gems`): kernels as its wrappers launch them for a typical small shape.

FlagGems has no Intel vendor backend in 5.0.2; its generic kernels (the ones `GEMS_VENDOR=nvidia` selects, which
other vendors reuse) are what runs elsewhere.  Where a kernel is autotuned, the block sizes are ones from its own
config list (``flag_gems/runtime/backend/_nvidia/tune_configs.yaml`` or the decorator), for a row of 1024
elements, matrices of 256-1024, attention with head size 64.
"""

import triton.language as tl

from harness import Entry

P = "flag-gems"
F32, F16, BF16, I64, I32 = "*fp32", "*fp16", "*bf16", "*i64", "*i32"


def _e(name: str, module: str, attr: str, category: str, **kw) -> Entry:
    return Entry(f"flag_gems/{name}", P, "flag_gems." + module, attr, category, **kw)


def _ptrs(names: str, t: str = F32, **more: str) -> dict:
    d = {n: t for n in names.split()}
    d.update(more)
    return d


_ATTN_STRIDES = {f"stride_{t}_{d}": "i32" for t in ("q", "k", "v", "o", "attn_mask")
                 for d in ("batch", "head", "seqlen", "headsize")}
_ATTN_STRIDES.pop("stride_attn_mask_seqlen")
_ATTN_STRIDES.pop("stride_attn_mask_headsize")

ENTRIES = [
    _e("softmax_inner", "ops.softmax", "softmax_kernel_inner", "softmax",
       constexprs={"TILE_N": 1024, "ONE_TILE_PER_CTA": True}),
    _e("softmax_non_inner", "ops.softmax", "softmax_kernel_non_inner", "softmax",
       constexprs={"TILE_N": 64, "TILE_K": 16, "ONE_TILE_PER_CTA": True}),
    _e("softmax_bwd_inner", "ops.softmax", "softmax_backward_kernel_inner", "softmax",
       constexprs={"TILE_M": 1, "TILE_N": 1024, "ONE_TILE_PER_CTA": True}),
    _e("log_softmax", "ops.log_softmax", "log_softmax_kernel", "softmax", constexprs={"BLOCK_M": 1, "BLOCK_N": 1024}),
    _e("layer_norm_persistent", "ops.layernorm", "layer_norm_persistent_kernel", "norm", ptr=BF16,
       types={"out_mean_ptr": F32, "out_rstd_ptr": F32, "eps": "fp32"}, constexprs={"TILE_N": 1024}),
    _e("layer_norm_loop", "ops.layernorm", "layer_norm_loop_kernel", "norm", ptr=BF16,
       types={"out_mean_ptr": F32, "out_rstd_ptr": F32, "eps": "fp32"}, constexprs={"TILE_N": 512}),
    _e("layer_norm_bwd", "ops.layernorm", "layer_norm_backward_kernel", "norm",
       types=_ptrs("dY X W dX", BF16, Mean=F32, Rstd=F32), constexprs={"BLOCK_ROW_SIZE": 4, "BLOCK_COL_SIZE": 1024}),
    _e("rms_norm", "ops.rms_norm", "rms_norm_kernel", "norm", ptr=BF16, types={"INV_RMS": F32, "eps": "fp32"},
       constexprs={"BLOCK_SIZE": 1024}),
    _e("rms_norm_grad_dx", "ops.rms_norm", "rms_norm_grad_dx_kernel", "norm",
       types=_ptrs("X DY DX W", BF16, INV_RMS=F32, eps="fp32"), constexprs={"BLOCK_SIZE": 1024}),
    _e("fused_add_rms_norm", "fused.fused_add_rms_norm", "fused_add_rms_norm_kernel", "norm", ptr=BF16,
       types={"eps": "fp32"}, constexprs={"BLOCK_SIZE": 1024}),
    _e("skip_layer_norm", "fused.skip_layernorm", "skip_layer_norm_kernel", "norm",
       types=_ptrs("Y X R W B", F16, eps="fp32"), constexprs={"BLOCK_SIZE": 1024}),
    _e("group_norm", "ops.groupnorm", "group_norm_kernel", "norm",
       types=_ptrs("X Y W B Mean Rstd", F32, eps="fp32"), constexprs={"BLOCK_GROUP_SIZE": 16, "BLOCK_HW_SIZE": 256},
       refused="calls CUDA's libdevice __nv_rsqrtf (FlagGems 5.0.2 has no Intel backend), which IGC leaves "
       "undefined: no Intel driver can link it"),
    _e("rotary_embedding", "fused.rotary_embedding", "apply_rotary_pos_emb_kernel", "rotary", ptr=BF16,
       types={"pos_ptr": I64, "cos_ptr": F32, "sin_ptr": F32},
       constexprs={"NUM_Q_HEADS": 32, "NUM_K_HEADS": 8, "HEAD_DIM": 128, "PADDED_HEAD_DIM": 128,
                   "ROTARY_INTERLEAVED": False, "MAX_POSITION_EMBEDDINGS": 4096}),
    _e("topk_stage1", "ops.topk", "topk_stage1_kernel", "sort-topk", types={"index_ptr": I64},
       constexprs={"N": 4096, "CHUNK_SIZE": 1024, "DESCENDING": True}),
    _e("topk_stage2", "ops.topk", "topk_stage2_kernel", "sort-topk", full_only=True,
       types={"index_ptr": I64, "chunk_x": F32, "chunk_index": I64},
       constexprs={"sort_dim": 32, "k": 8, "N": 4, "BLOCK_SIZE": 32, "DESCENDING": True}),
    _e("sort", "ops.sort", "sort_kernel", "sort-topk", types={"out_index_ptr": I64}, full_only=True,
       constexprs={"N": 1024, "BLOCK_SIZE": 1024, "DESCENDING": False, "IS_FLOAT": True}),
    _e("cumsum_scan_part", "ops.cumsum", "scan_part_sum_kernel", "scan",
       types=_ptrs("inp out partial_sum"), constexprs={"BLOCK_SIZE": 1024}),
    _e("cumsum_normed", "ops.cumsum", "normed_cumsum_kernel", "scan", types=_ptrs("inp out"),
       constexprs={"BLOCK": 1024}),
    _e("cummax_scan_part", "ops.cummax", "scan_part_max_kernel", "scan",
       types=_ptrs("inp out partial_max", F32, in_indices=I64, out_indices=I64, partial_max_indices=I64),
       constexprs={"BLOCK_SIZE": 1024, "NEED_PARTIAL": True, "USE_OUT_INDICES": False}),
    _e("argmax_inner", "ops.argmax", "argmax_kernel_inner", "reduction", types=_ptrs("inp", F32, out_index=I64),
       constexprs={"TILE_N": 1024, "ONE_TILE_PER_CTA": True}),
    _e("argmax_1", "ops.argmax", "argmax_kernel_1", "reduction", types=_ptrs("inp mid_value", F32, mid_index=I64),
       constexprs={"BLOCK_SIZE": 1024}),
    _e("sum_1", "ops.sum", "sum_kernel_1", "reduction", types=_ptrs("inp mid"), constexprs={"BLOCK_SIZE": 1024}),
    _e("var_mean_welford", "ops.var_mean", "var_mean_welford_kernel", "reduction", types=_ptrs("X Var Mean"),
       constexprs={"BLOCK_M": 4, "BLOCK_N": 1024}, num_warps=8),
    _e("l2_norm", "ops.vector_norm", "l2_norm_kernel", "reduction", types=_ptrs("X Out"),
       constexprs={"BLOCK_M": 4, "BLOCK_N": 1024}, num_warps=8),
    _e("mm", "ops.mm", "mm_kernel_general", "matmul", types=_ptrs("A B C", F16), full_only=True,
       constexprs={"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8}, num_warps=4),
    _e("bmm", "ops.bmm", "bmm_kernel", "matmul", types=_ptrs("A B O", BF16),
       constexprs={"TILE_M": 64, "TILE_N": 64, "TILE_K": 32, "GROUP_M": 8, "DIVISIBLE_M": True,
                   "DIVISIBLE_N": True, "DIVISIBLE_K": True}, num_warps=4),
    _e("addmm", "ops.addmm", "addmm_kernel", "matmul", ptr=F16, types={"alpha": "fp32", "beta": "fp32"}, full_only=True,
       constexprs={"BLOCK_SIZE_M": 64, "BLOCK_SIZE_N": 64, "BLOCK_SIZE_K": 32}, num_warps=4),
    _e("attention_fwd", "ops.attention", "_attn_fwd", "attention", full_only=True,
       types={**_ptrs("Q K V Out", F16, attn_mask="*i1", M=F32, sm_scale="fp32"), **_ATTN_STRIDES},
       constexprs={"GROUP_HEAD": 1, "HEAD_DIM": 64, "BLOCK_M": 64, "BLOCK_N": 16, "STAGE": 3,
                   "HAS_ATTN_MASK": False, "PRE_LOAD_V": False}, num_warps=4),
    _e("attention_bwd_preprocess", "ops.attention", "_attn_bwd_preprocess", "attention",
       types=_ptrs("O DO", F16, Delta=F32), constexprs={"BLOCK_M": 128, "D_HEAD": 64}),
    _e("attention_bwd", "ops.attention", "_attn_bwd", "attention", full_only=True,
       types=_ptrs("Q K V DO DQ DK DV", F16, M=F32, D=F32, sm_scale="fp32"),
       constexprs={"GROUP_HEAD": 1, "BLOCK_M1": 32, "BLOCK_N1": 64, "BLOCK_M2": 64, "BLOCK_N2": 32,
                   "BLK_SLICE_FACTOR": 2, "BLOCK_DMODEL": 64}, num_warps=4),
    # Split-KV decoding (FlashAttention's combine step): merges the per-split partial outputs by their LSE.
    _e("flash_decode_combine", "ops.flash_kernel", "flash_fwd_splitkv_combine_kernel", "paged-decode-attention",
       ptr=F32, types={"out_ptr": BF16},
       constexprs={"head_size": 128, "BLOCK_M": 4, "BLOCK_K": 128, "MAX_N_SPLITS": 16}),
    _e("reshape_and_cache", "fused.reshape_and_cache", "reshape_and_cache_kernel", "paged-decode-attention",
       types=_ptrs("key value key_cache value_cache", BF16, slot_mapping=I64, k_scale=F32, v_scale=F32),
       constexprs={"n": 1024}),
    _e("w8a8_block_fp8_matmul", "ops.w8a8_block_fp8_matmul", "w8a8_block_fp8_matmul_kernel", "fp8-matmul",
       full_only=True, types=_ptrs("A B", "*fp8e4nv", C=BF16, As=F32, Bs=F32),
       constexprs={"BLOCK_SIZE_M": 64, "BLOCK_SIZE_N": 128, "BLOCK_SIZE_K": 128, "GROUP_SIZE_M": 32},
       num_warps=4),
    # The same kernel with the smallest tile vLLM's block-FP8 configs use (few tokens: decode).
    _e("w8a8_block_fp8_matmul_m16", "ops.w8a8_block_fp8_matmul", "w8a8_block_fp8_matmul_kernel", "fp8-matmul",
       full_only=True, types=_ptrs("A B", "*fp8e4nv", C=BF16, As=F32, Bs=F32),
       constexprs={"BLOCK_SIZE_M": 16, "BLOCK_SIZE_N": 64, "BLOCK_SIZE_K": 128, "GROUP_SIZE_M": 1},
       num_warps=4),
    _e("per_token_group_quant_fp8", "ops.per_token_group_quant_fp8", "_per_token_group_quant_fp8", "fp8-quantization",
       types={"y_ptr": BF16, "y_q_ptr": "*fp8e4nv", "y_s_ptr": F32, "eps": "fp32", "fp8_min": "fp32",
              "fp8_max": "fp32", "scale_ue8m0": "i1"}, constexprs={"BLOCK": 128}),
    _e("fused_moe", "fused.fused_moe", "fused_moe_kernel", "fused-moe", ptr=BF16, full_only=True,
       types={"b_bias_ptr": BF16, "a_scale_ptr": F32, "b_scale_ptr": F32, "topk_weights_ptr": F32,
              "sorted_token_ids_ptr": I32, "expert_ids_ptr": I32, "num_tokens_post_padded_ptr": I32},
       constexprs={"group_n": 0, "group_k": 0, "naive_block_assignment": False, "BLOCK_SIZE_M": 64,
                   "BLOCK_SIZE_N": 64, "BLOCK_SIZE_K": 32, "GROUP_SIZE_M": 8, "SPLIT_K": 1,
                   "MUL_ROUTED_WEIGHT": False, "top_k": 2, "compute_type": tl.bfloat16, "use_fp8_w8a8": False,
                   "use_int8_w8a8": False, "use_int8_w8a16": False, "per_channel_quant": False,
                   "HAS_BIAS": False, "SWAP_AB": False}, num_warps=4),
    # GPTQ/AWQ int4 weights (uint8 packed), bf16 activations.
    _e("fused_moe_int4", "fused.fused_moe", "fused_moe_kernel_gptq_awq", "quantized-matmul", ptr=BF16, full_only=True,
       types={"b_ptr": "*u8", "b_scale_ptr": BF16, "b_zp_ptr": "*u8", "topk_weights_ptr": F32,
              "sorted_token_ids_ptr": I32, "expert_ids_ptr": I32, "num_tokens_post_padded_ptr": I32},
       constexprs={"N": 1024, "K": 1024, "block_k_diviable": True, "group_size": 128, "BLOCK_SIZE_M": 16,
                   "BLOCK_SIZE_N": 64, "BLOCK_SIZE_K": 128, "GROUP_SIZE_M": 1, "SPLIT_K": 1,
                   "MUL_ROUTED_WEIGHT": False, "top_k": 2, "compute_type": tl.bfloat16, "has_zp": False,
                   "use_int4_w4a16": True, "use_int8_w8a16": False}, num_warps=4),
    _e("cross_entropy_indices", "fused.cross_entropy_loss", "celoss_indices_kernel", "cross-entropy",
       types={"tgt_ptr": I64}, constexprs={"BLOCK_C": 1024, "BLOCK_D": 1}, num_warps=4),
    _e("cross_entropy_indices_bwd", "fused.cross_entropy_loss", "celoss_indices_bwd", "cross-entropy",
       types={"tgt_ptr": I64, "mean_num": "fp32"}, constexprs={"BLOCK_C": 1024, "BLOCK_D": 1}, num_warps=4),
    _e("embedding", "ops.embedding", "embedding_kernel", "gather-scatter", types={"in_ptr": I64},
       constexprs={"N": 1024, "BLOCK_SIZE": 1024}),
    _e("embedding_bwd_atomic", "ops.embedding", "embedding_backward_kernel", "atomics",
       types=_ptrs("grad_in grad_out", F32, indices=I64), constexprs={"HAS_PADDING_IDX": False, "N": 1024,
                                                                     "BLOCK_SIZE": 1024}),
    _e("index_select", "ops.index_select", "index_select_kernel", "gather-scatter",
       types=_ptrs("inp out", F32, index=I64), constexprs={"BLOCK_M": 4, "BLOCK_N": 512}),
    _e("multinomial", "ops.multinomial", "multinomial_with_replacement", "sampling", types={"out_ptr": I64,
       "philox_seed": "i64", "philox_offset": "i64"}, constexprs={"NBLOCK": 128}),
    _e("dropout", "ops.dropout", "dropout_forward_kernel", "sampling",
       types=_ptrs("X Y", F16, dropout_mask="*i1", p="fp32", philox_seed="i64", philox_offset="i64"),
       constexprs={"BLOCK": 1024}),
    _e("count_nonzero", "ops.count_nonzero", "count_nonzero_kernel_1", "atomics", types={"out_ptr": I64},
       constexprs={"BLOCK_SIZE": 1024}),
]
