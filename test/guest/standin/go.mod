module cnvm/test/guest/standin

go 1.19
