"""The workflows built on the library: training (``training``), verification
(``verification``), faithfulness and stability, the eqgat adapter of ``landscape``
(``landscapes``), reproduction of the paper (``reproduce``), the locality search
(``locality``), drawing compiled weights (``show``) and dm-clrs interop (``interop``).
The command lines (``eqgat.cli``) sit on these; nothing here imports them."""
