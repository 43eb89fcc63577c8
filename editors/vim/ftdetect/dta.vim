" .dta reasoning-distillation recipes (dtac).
autocmd BufNewFile,BufRead *.dta setfiletype dta
