// Lint config: typescript-eslint's recommended rules over our TypeScript sources.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "tools/**", "viewer/vendor/**", "test-results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: {
      globals: {
        console: "readonly", process: "readonly", window: "readonly", document: "readonly",
        location: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly",
        localStorage: "readonly", customElements: "readonly", fetch: "readonly", WebSocket: "readonly",
        setInterval: "readonly", clearInterval: "readonly", RED: "readonly", $: "readonly",
      },
    },
  },
);
