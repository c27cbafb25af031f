"""Score-based diffusion (paper 4, PAPERS.md §4 and §6.4): the software level.

Modules:
    sde: VP-SDE (beta 0.001 -> 0.5), marginals, the DSM loss with the saturation penalty.
    data: the ring sampler and the 'H', 'K', 'U' letters rendered with Pillow's default font.
    nets: TimeEncoding, ScoreMLP / ScoreMLPCond (2 -> 14 -> 14 -> 2, amp 5, noise-aware
        forward, ``analog_export``), ConvVAE (2-D latent), LetterClassifier, checkpoints.
    samplers: reverse-time Euler (PF-ODE and SDE) and the tick-held variant
        (``tick_schedule``, ``sample_ticks``) an analogue closed loop driven by DACs sees.
    metrics: 2-D histogram KL and L2, letter accuracy of decoded latents.
    train: recipes (frozen dataclasses), ``train_ring``, ``train_hku``, ``train_all``.
    evaluate: software baselines, the tick-held variants, tables and scatter plots.

Shipped checkpoints: ``assets/diffusion_ring.npz`` (net ``score``) and
``assets/diffusion_hku.npz`` (nets ``vae``, ``classifier``, ``score``);
``train.train_all(out_dir, seed)`` reproduces both.

For an analogue closed-loop solver built on these models:

* ``train.load_ring()`` / ``train.load_hku()`` give the nets; ``net.analog_export()`` the float
  layers ``W = [W1 [14, 2], W2 [14, 14], W3 [2, 14]]``, ``b``, ``amp``, the time frequencies
  and the class-embedding table; ``nets.export_embedding(exp, t, c)`` and
  ``nets.export_score(exp, x, e)`` evaluate ``s = amp (W3 relu(W2 relu(W1 x + b1 + e) + b2 + e)
  + b3)`` from it (equal to the net's output to float rounding);
* ``samplers.tick_schedule(n_ticks, t_start, t_end, beta_scale, mode)`` is the per-tick DAC
  schedule (held time, beta, drift coefficient a_k, score gain b_k, noise std);
* ``metrics.hist_kl`` / ``hist_l2`` / ``letter_accuracy`` score any set of samples with the
  same metrics as the software baseline.
"""
