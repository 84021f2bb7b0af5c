// Public header of shoal::model: what a model is. Open a file with ModelFile::Open();
// the pieces (GGUF reader, config, tokenizer, chat template, reference dequantization)
// are usable on their own through the headers included here.
#ifndef SHOAL_MODEL_MODEL_H_
#define SHOAL_MODEL_MODEL_H_

#include "model/chat_template.h"
#include "model/gguf/gguf_file.h"
#include "model/model_config.h"
#include "model/model_file.h"
#include "model/quant/dequantize.h"
#include "model/tensor_layout.h"
#include "model/tokenizer/tokenizer.h"

#endif  // SHOAL_MODEL_MODEL_H_
