"""Neural-ODE digital twins (paper 2, PAPERS.md §2 and §6.2): the software level.

Modules:
    hp: HP memristor ground truth (Strukov 2008 + Joglekar window, scipy) and drive waveforms.
    lorenz96: Lorenz96 ground truth, Lyapunov exponents (Benettin/QR), valid prediction time.
    node: the vector field f_theta(h, u) (a plain tanh MLP), torchdiffeq integration,
        checkpoints.
    train: the twins' configs, the training recipe, ``train_hp`` / ``train_l96``.
    evaluate: NRMSE on training window / extrapolation / unseen drives (HP), valid prediction
        time in Lyapunov times (Lorenz96); the tables of ``rramcim eval twin-hp|twin-l96``.

Shipped checkpoints: ``assets/twin_hp.npz`` (control-affine: the drive multiplies the output
of an MLP 1 -> 32 -> 32 -> 1, tanh) and ``assets/twin_l96.npz`` (6 -> 64 -> 64 -> 6, tanh);
``rramcim train twin-hp|twin-l96`` reproduces them from their seed.

For an analogue (crossbar) solver built on these models:

* ``node.load_checkpoint(path) -> (MLPVectorField, summary)``; ``field.weights()`` /
  ``field.biases()`` are the matrices ``[out, in]`` (nn.Linear orientation), ``field.scales``
  the fixed normalisation constants, ``field.cfg.activation`` the hidden activation (tanh);
* ``node.vector_field(h, u, weights, biases, scales, activation)`` evaluates dh/dt for any
  (noisy, quantised) copy of the weights; with the module's own weights it equals
  ``field(h, u)`` bit for bit;
* ``node.integrate(field, h0, t, u_fn, method, step_size)`` solves the ODE for any
  ``field(h, u)`` callable (torchdiffeq);
* ``evaluate.evaluate_hp(field, cfg)`` and ``evaluate.evaluate_l96(field, cfg, lambda1, rms)``
  score any ``field(h, u)`` callable with the same metrics as the software twin
  (``cfg = HPTwinConfig.from_json(summary["config"])``, ``lambda1`` and ``rms`` from
  ``summary["lyapunov"]["lambda1"]`` and ``summary["attractor_rms"]``).
"""
