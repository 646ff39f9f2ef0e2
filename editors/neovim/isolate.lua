-- cargo isolate's language server for Rust buffers, in Neovim 0.7 and later.
-- Put this in your init.lua (or save it as lua/isolate.lua and `require('isolate')`).
-- `vim.g.isolate_lsp_cmd` may name another command, e.g. { '/path/to/cargo-isolate', 'lsp' }.
local cmd = vim.g.isolate_lsp_cmd or { 'cargo', 'isolate', 'lsp' }

-- The workspace: the directory of the outermost Cargo.toml above the file.
local function root_dir(bufnr)
  local dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':p:h')
  local manifests = vim.fn.findfile('Cargo.toml', dir .. ';', -1)
  if #manifests == 0 then
    return dir
  end
  return vim.fn.fnamemodify(manifests[#manifests], ':p:h')
end

local clients = {} -- Neovim 0.7: one client per root, attached to each Rust buffer under it

vim.api.nvim_create_autocmd('FileType', {
  pattern = 'rust',
  callback = function(args)
    local config = { name = 'isolate', cmd = cmd, root_dir = root_dir(args.buf) }
    if vim.lsp.start then -- Neovim 0.8+
      vim.lsp.start(config)
    else -- Neovim 0.7
      clients[config.root_dir] = clients[config.root_dir] or vim.lsp.start_client(config)
      vim.lsp.buf_attach_client(args.buf, clients[config.root_dir])
    end
  end,
})
