"""Neural fields on RRAM (paper 3, PAPERS.md §3 and §6.3): the software level.

Modules:
    ct: 2-D parallel-beam sparse-view CT stand-in: differentiable projector, filtered
        back-projection, PSNR/SSIM, the two-stage (prior embedding, then reconstruction from
        projections) training of a low-rank SIREN with the RRAM Gaussian encoder
        (``run_ct(CtConfig())``).
    nvs: novel-view synthesis on procedural scenes (static, and dynamic with time as an
        input): volume renderer, low-rank NeRF-style field, structured pruning, HAQ-mapped
        evaluation (``run_nvs(NvsConfig())``).

Layers live in :mod:`rramcim.nn.field`, phantoms in :mod:`rramcim.data.phantom`.
"""
